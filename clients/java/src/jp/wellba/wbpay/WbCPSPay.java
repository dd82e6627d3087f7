package jp.wellba.wbpay;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The library spec's WbCPSPay (3.1) in Java, as a client of the wbpay daemon
 * (local API v1). Request methods hand the request to the daemon and return
 * once it is accepted; outcomes arrive through the listeners, one at a time,
 * in order. One instance per host at a time. Thread-safe.
 */
public class WbCPSPay implements AutoCloseable {
    static final String LOCK_FILE = "WbCPSPay.client.lock";
    private static final Object PROCESS_GATE = new Object();
    private static boolean heldInProcess;

    private final Path home;
    private final Executor eventExecutor;
    private final Duration requestTimeout;
    private final HttpClient http;
    private final List<WbCPSCompleteListener> completeListeners = new CopyOnWriteArrayList<>();
    private final List<WbCPSErrorListener> errorListeners = new CopyOnWriteArrayList<>();
    private FileChannel lockChannel;
    private FileLock lock;
    private volatile Endpoint endpoint;

    private final Object gate = new Object(); // guards the fields below
    private long lastEventId;
    private final Set<String> ours = new HashSet<>();
    private final Set<String> ourKeys = new HashSet<>(); // Idempotency-Keys sent
    private final List<StreamEvent> held = new ArrayList<>();
    private final List<StreamEvent> queue = new ArrayList<>();
    private int requestsInFlight;
    private boolean closed;
    private volatile InputStream openStream;
    private volatile long lastByte = System.nanoTime();
    private final CountDownLatch firstConnect = new CountDownLatch(1);
    private volatile WbPayException firstError;

    /** Opens the instance on the default home; see {@link #WbCPSPay(WbCPSPayOptions)}. */
    public WbCPSPay() { this(null); }

    /**
     * Opens the instance. Throws WbPayException: L0001 (no home, bad
     * serve.json/serve.token), L0005 (the daemon is not running), L0006
     * (another instance is open on this host), L0011 (token refused).
     */
    public WbCPSPay(WbCPSPayOptions options) {
        if (options == null) options = new WbCPSPayOptions();
        eventExecutor = options.eventExecutor;
        requestTimeout = options.requestTimeout != null && !options.requestTimeout.isNegative() && !options.requestTimeout.isZero()
                ? options.requestTimeout : Duration.ofSeconds(15);
        home = findHome(options.home);
        if (!Files.isDirectory(home)) {
            throw WbPayException.lib("L0001", "home " + home + " does not exist (set WBPAY_HOME, or install the daemon)", null);
        }
        acquireLock();
        try {
            endpoint = Endpoint.read(home);
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).proxy(HttpClient.Builder.NO_PROXY)
                    .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
            checkHealth();
            Thread d = new Thread(this::dispatchLoop, "WbCPSPay events");
            d.setDaemon(true);
            d.start();
            Thread s = new Thread(this::streamLoop, "WbCPSPay stream");
            s.setDaemon(true);
            s.start();
            Thread w = new Thread(this::watchdog, "WbCPSPay keep-alive watchdog");
            w.setDaemon(true);
            w.start();
            if (!firstConnect.await(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw WbPayException.lib("L0005", "the wbpay daemon at " + endpoint.url + " did not open its event stream within " + requestTimeout.getSeconds() + " s", null);
            }
            if (firstError != null) throw firstError;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutdown();
            throw WbPayException.lib("L0005", "interrupted while opening", e);
        } catch (RuntimeException e) {
            shutdown();
            throw e;
        }
    }

    private static Path findHome(String given) {
        if (given != null && !given.isEmpty()) return Paths.get(given);
        String env = System.getenv("WBPAY_HOME");
        if (env != null && !env.isEmpty()) return Paths.get(env);
        if (System.getProperty("os.name", "").toLowerCase().startsWith("windows")) return Paths.get("C:\\Wellba\\WbPay");
        throw WbPayException.lib("L0001", "WBPAY_HOME is not set: on this system the home must be named by WBPAY_HOME", null);
    }

    private void acquireLock() {
        synchronized (PROCESS_GATE) {
            if (heldInProcess) throw WbPayException.lib("L0006", "another WbCPSPay instance is open in this process: close it first", null);
            Path p = home.resolve(LOCK_FILE);
            try {
                lockChannel = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                lock = lockChannel.tryLock(0, 1, false);
            } catch (OverlappingFileLockException e) {
                lock = null;
            } catch (IOException e) {
                closeQuietly();
                throw WbPayException.lib("L0001", "cannot open " + p + ": " + e.getMessage(), e);
            }
            if (lock == null) {
                closeQuietly();
                throw WbPayException.lib("L0006", "another WbCPSPay instance is open on this host (" + p + " is locked)", null);
            }
            heldInProcess = true;
        }
    }

    private void closeQuietly() {
        try {
            if (lockChannel != null) lockChannel.close();
        } catch (IOException ignored) {
            // nothing to do: the channel is gone either way
        }
        lockChannel = null;
    }

    /** Adds a CompleteEvent listener. */
    public void addCompleteListener(WbCPSCompleteListener l) { completeListeners.add(Objects.requireNonNull(l, "listener")); }

    /** Removes a CompleteEvent listener. */
    public void removeCompleteListener(WbCPSCompleteListener l) { completeListeners.remove(l); }

    /** Adds an ErrorEvent listener. */
    public void addErrorListener(WbCPSErrorListener l) { errorListeners.add(Objects.requireNonNull(l, "listener")); }

    /** Removes an ErrorEvent listener. */
    public void removeErrorListener(WbCPSErrorListener l) { errorListeners.remove(l); }

    // ---- request methods ----

    /** Starts a pay; NullPointerException for null, WbPayException when refused before anything was sent. */
    public void pay(WbCPSPayRequest request) {
        Objects.requireNonNull(request, "request");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("payType", channel(request.payType, true));
        body.put("amount", request.amount);
        putIf(body, "userCode", request.userCode);
        putIf(body, "receiptNo", request.receiptNo);
        putIf(body, "remark", request.remark);
        submit("/v1/pay", body, true);
    }

    /** Answers a pay waiting for the customer: true asks now, false ends the wait (L0008 when none waits). */
    public void payConfirm(boolean confirm) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("confirm", confirm);
        submit("/v1/pay-confirm", body, false);
    }

    /** Starts a refund. */
    public void refund(WbCPSRefundRequest request) {
        Objects.requireNonNull(request, "request");
        Map<String, Object> body = new LinkedHashMap<>();
        putIf(body, "orderId", request.orderId);
        body.put("refundAmount", request.refundAmount);
        putIf(body, "refundReason", request.refundReason);
        putIf(body, "remark", request.remark);
        submit("/v1/refund", body, true);
    }

    /** Starts a reverse (取消). */
    public void reverse(WbCPSReverseRequest request) {
        Objects.requireNonNull(request, "request");
        Map<String, Object> body = new LinkedHashMap<>();
        putIf(body, "orderId", request.orderId);
        submit("/v1/reverse", body, true);
    }

    /** Starts a deposit (入金). */
    public void deposit(WbCPSDepositRequest request) {
        Objects.requireNonNull(request, "request");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("payType", channel(request.payType, false));
        if (request.valueType == null) throw field("valueType", "is missing");
        body.put("valueType", request.valueType.name().toUpperCase());
        body.put("amount", request.amount);
        putIf(body, "userCode", request.userCode);
        putIf(body, "receiptNo", request.receiptNo);
        submit("/v1/deposit", body, true);
    }

    private static WbPayException field(String name, String what) {
        return WbPayException.lib("L0003", name + ": " + what, null);
    }

    private static String channel(WbCPSPayType t, boolean autoOK) {
        if (t == null) throw field("payType", "is missing");
        if (t == WbCPSPayType.AutoDetect && !autoOK) throw field("payType", "AutoDetect cannot be used here");
        return t.code();
    }

    private static void putIf(Map<String, Object> body, String key, String value) {
        if (value != null) body.put(key, value);
    }

    private void submit(String path, Map<String, Object> body, boolean starts) {
        String key = UUID.randomUUID().toString().replace("-", "");
        synchronized (gate) {
            if (closed) throw WbPayException.lib("L0005", "this WbCPSPay instance was closed", null);
            requestsInFlight++;
            if (starts) ourKeys.add(key);
        }
        String txnId = null;
        try {
            String answer = sendWithRetry(path, Json.write(body), key);
            if (starts) {
                try {
                    txnId = Json.str(Json.parse(answer), "id");
                } catch (IllegalArgumentException e) {
                    throw WbPayException.lib("L0004", "the daemon accepted " + path + " but its answer is not JSON (" + e.getMessage() + "): look the request up by receiptNo", e);
                }
            }
        } finally {
            synchronized (gate) {
                if (txnId != null) ours.add(txnId);
                requestsInFlight--;
                for (int k = 0; k < held.size(); k++) {
                    if (ours.contains(held.get(k).transactionId)) {
                        enqueue(held.remove(k));
                        k--;
                    }
                }
                if (requestsInFlight == 0) held.clear();
            }
        }
    }

    /** POSTs until the daemon answers; a lost answer is retried with the same Idempotency-Key. */
    private String sendWithRetry(String path, String json, String key) {
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        boolean retried = false;
        Exception last = null;
        long delay = 50;
        while (true) {
            Endpoint ep = retried ? refreshEndpoint() : endpoint;
            HttpRequest req = HttpRequest.newBuilder(URI.create(ep.url + path))
                    .timeout(requestTimeout)
                    .header("Authorization", "Bearer " + ep.token)
                    .header("Content-Type", "application/json")
                    .header("Idempotency-Key", key)
                    .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build();
            try {
                HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int st = resp.statusCode();
                if (st == 200 || st == 201 || st == 202) return resp.body();
                WbPayException err = errorFromAnswer(st, resp.body());
                if (!(retried && st == 503 && System.nanoTime() < deadline)) throw err;
                last = err;
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw WbPayException.lib("L0005", "interrupted while sending " + path, e);
            }
            if (System.nanoTime() >= deadline) {
                if (last instanceof WbPayException) throw (WbPayException) last;
                throw WbPayException.lib("L0005", "the wbpay daemon did not accept " + path + " within " + requestTimeout.getSeconds()
                        + " s (" + last + "); if it was sent, its outcome arrives as an event once the daemon is back", last);
            }
            retried = true;
            sleep(delay);
            delay = Math.min(delay * 2, 500);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static WbPayException errorFromAnswer(int status, String body) {
        Map<String, Object> e = null;
        try {
            e = Json.obj(Json.parse(body), "error");
        } catch (IllegalArgumentException ignored) {
            // not JSON: handled below
        }
        if (e == null) {
            String c = status == 401 || status == 403 ? "L0011" : status == 503 ? "L0005" : status == 409 ? "L0004" : "L0003";
            return WbPayException.lib(c, "the daemon answered HTTP " + status + " without an error object", null);
        }
        String msg = Objects.toString(Json.str(e, "message"), "");
        String f = Json.str(e, "field");
        if (f != null && !f.isEmpty() && !msg.contains(f)) msg = f + ": " + msg;
        return new WbPayException((int) Json.num(e, "type"), Json.str(e, "code"), Json.str(e, "subCode"), msg,
                WbCPSAction.parse(Json.str(e, "action")), null);
    }

    private Endpoint refreshEndpoint() {
        try {
            endpoint = Endpoint.read(home);
        } catch (WbPayException e) {
            // keep the last one: the daemon may be rewriting its files
        }
        return endpoint;
    }

    private void checkHealth() {
        Endpoint ep = endpoint;
        HttpRequest req = HttpRequest.newBuilder(URI.create(ep.url + "/v1/health")).timeout(requestTimeout)
                .header("Authorization", "Bearer " + ep.token).GET().build();
        try {
            HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (resp.statusCode() >= 400) throw errorFromAnswer(resp.statusCode(), resp.body());
        } catch (IOException e) {
            throw WbPayException.lib("L0005", "the wbpay daemon of " + home + " does not answer at " + ep.url + " (pid " + ep.pid
                    + "): start `wbpay-engine serve` or its service", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw WbPayException.lib("L0005", "interrupted", e);
        }
    }

    // ---- the event stream ----

    private static final class StreamEvent {
        long id;
        String kind;
        String transactionId;
        Map<String, Object> data;
    }

    private void streamLoop() {
        long delay = 100;
        boolean first = true;
        while (!isClosed()) {
            Endpoint ep = first ? endpoint : refreshEndpoint();
            try {
                long after;
                synchronized (gate) {
                    after = lastEventId;
                }
                String path = after > 0 || first ? "/v1/events" : "/v1/events?after=0";
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(ep.url + path))
                        .header("Authorization", "Bearer " + ep.token).header("Accept", "text/event-stream").GET();
                if (after > 0) b.header("Last-Event-ID", Long.toString(after));
                HttpResponse<InputStream> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = resp.body()) {
                    if (resp.statusCode() != 200) {
                        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                        WbPayException err = errorFromAnswer(resp.statusCode(), text);
                        if (first) {
                            firstError = err;
                            firstConnect.countDown();
                            return;
                        }
                        throw new IOException("event stream: HTTP " + resp.statusCode() + " " + err.getCode());
                    }
                    openStream = in;
                    lastByte = System.nanoTime();
                    firstConnect.countDown();
                    first = false;
                    delay = 100;
                    readEvents(in);
                } finally {
                    openStream = null;
                }
            } catch (IOException | RuntimeException e) {
                if (isClosed()) return;
                if (first) {
                    firstError = WbPayException.lib("L0005", "the wbpay daemon at " + ep.url + " did not open its event stream: " + e, e);
                    firstConnect.countDown();
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
            if (isClosed()) return;
            sleep(delay);
            delay = Math.min(delay * 2, 1000);
        }
    }

    /** Closes a stream silent for longer than three keep-alive periods (45 s), so it reconnects. */
    private void watchdog() {
        while (!isClosed()) {
            sleep(1000);
            InputStream in = openStream;
            if (in != null && System.nanoTime() - lastByte > TimeUnit.SECONDS.toNanos(45)) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // the reader sees the stream end either way
                }
            }
        }
    }

    private void readEvents(InputStream in) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String id = null, kind = null;
        StringBuilder data = new StringBuilder();
        String line;
        while ((line = r.readLine()) != null) {
            lastByte = System.nanoTime();
            if (line.isEmpty()) {
                if (data.length() > 0 || kind != null) accept(id, kind == null ? "message" : kind, data.toString());
                id = null;
                kind = null;
                data.setLength(0);
                continue;
            }
            if (line.charAt(0) == ':') continue;
            int colon = line.indexOf(':');
            String f = colon < 0 ? line : line.substring(0, colon);
            String v = colon < 0 ? "" : line.substring(colon + 1);
            if (v.startsWith(" ")) v = v.substring(1);
            switch (f) {
                case "id": id = v; break;
                case "event": kind = v; break;
                case "data":
                    if (data.length() > 0) data.append('\n');
                    data.append(v);
                    break;
                default: break;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void accept(String idText, String kind, String dataText) {
        long id;
        try {
            id = Long.parseLong(idText == null ? "" : idText);
        } catch (NumberFormatException e) {
            return;
        }
        Map<String, Object> data = null;
        try {
            Object o = Json.parse(dataText);
            if (o instanceof Map) data = (Map<String, Object>) o;
        } catch (IllegalArgumentException ignored) {
            // a malformed frame is skipped; its id still counts as seen
        }
        synchronized (gate) {
            if (id <= lastEventId) return;
            lastEventId = id;
            if (data == null || !(kind.equals("complete") || kind.equals("error"))) return;
            StreamEvent ev = new StreamEvent();
            ev.id = id;
            ev.kind = kind;
            ev.data = data;
            Map<String, Object> txn = Json.obj(data, "transaction");
            String t = Json.str(data, "transactionId");
            if (t == null) t = Json.str(txn, "id");
            ev.transactionId = t == null ? "" : t;
            // Ours: a transaction whose id a request got back, or whose
            // Idempotency-Key it sent (a request whose answer never came).
            String key = Json.str(txn, "idempotencyKey");
            if (key != null && ourKeys.contains(key)) ours.add(ev.transactionId);
            if (ours.contains(ev.transactionId)) enqueue(ev);
            else if (requestsInFlight > 0) held.add(ev);
        }
    }

    private void enqueue(StreamEvent ev) {
        int at = queue.size();
        while (at > 0 && queue.get(at - 1).id > ev.id) at--;
        queue.add(at, ev);
        gate.notifyAll();
    }

    private boolean isClosed() {
        synchronized (gate) {
            return closed;
        }
    }

    private void dispatchLoop() {
        while (true) {
            StreamEvent ev;
            synchronized (gate) {
                while (queue.isEmpty() && !closed) {
                    try {
                        gate.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) return;
                ev = queue.remove(0);
            }
            if (eventExecutor == null) {
                raise(ev);
            } else {
                CountDownLatch done = new CountDownLatch(1);
                eventExecutor.execute(() -> {
                    try {
                        raise(ev);
                    } finally {
                        done.countDown();
                    }
                });
                try {
                    done.await();
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void raise(StreamEvent ev) {
        Map<String, Object> txn = Json.obj(ev.data, "transaction");
        boolean recovered = Json.bool(ev.data, "recovered");
        WbCPSRequestType type = WbCPSRequestType.parse(Json.str(ev.data, "requestType"), Json.str(txn, "operation"));
        try {
            if (ev.kind.equals("complete")) {
                Object resp = response(type, txn, recovered);
                for (WbCPSCompleteListener l : completeListeners) l.onComplete(type, resp);
            } else {
                Map<String, Object> e = Json.obj(ev.data, "error");
                WbCPSResponseError err = new WbCPSResponseError();
                err.type = (int) Json.num(e, "type");
                err.code = Objects.toString(Json.str(e, "code"), "");
                err.subCode = Objects.toString(Json.str(e, "subCode"), "");
                err.message = Objects.toString(Json.str(e, "message"), "");
                err.requestAction = WbCPSAction.parse(Json.str(e, "action"));
                err.recovered = recovered;
                for (WbCPSErrorListener l : errorListeners) l.onError(type, err);
            }
        } catch (RuntimeException e) {
            // A throwing listener must not stop the events that follow.
            System.err.println("WbCPSPay: listener threw: " + e);
        }
    }

    private static final String[] STATUS = {null, "PAID", "WAITING", "PROCESSING", "FAILED", "CANCELLED", "EXPIRED",
        "REVERSED", "REFUNDED", "PARTIALLY_REFUNDED", "DEPOSITED"};

    static int status(Map<String, Object> txn) {
        String s = Json.str(txn, "transStatus");
        if (s == null || s.isEmpty()) return 0;
        for (int k = 1; k < STATUS.length; k++) if (STATUS[k].equalsIgnoreCase(s)) return k;
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static final DateTimeFormatter SPEC_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

    /** yyyyMMddHHmmss (JST) from the API's RFC 3339 time; kept when already in that form. */
    static String transTime(String s) {
        if (s == null || s.isEmpty()) return "";
        if (s.matches("\\d{14}")) return s;
        try {
            return OffsetDateTime.parse(s).withOffsetSameInstant(ZoneOffset.ofHours(9)).format(SPEC_TIME);
        } catch (DateTimeParseException e) {
            return s;
        }
    }

    private static Object response(WbCPSRequestType type, Map<String, Object> txn, boolean recovered) {
        String orderId = Objects.toString(Json.str(txn, "orderId"), "");
        String time = transTime(Json.str(txn, "transTime"));
        int st = status(txn);
        switch (type) {
            case Refund: {
                WbCPSRefundResponse r = new WbCPSRefundResponse();
                r.orderId = orderId; r.transStatus = st; r.refundAmount = Json.num(txn, "refundAmount"); r.transTime = time; r.recovered = recovered;
                return r;
            }
            case Reverse: {
                WbCPSReverseResponse r = new WbCPSReverseResponse();
                r.orderId = orderId; r.transStatus = st; r.amount = Json.num(txn, "amount"); r.transTime = time; r.recovered = recovered;
                return r;
            }
            case Deposit: {
                WbCPSDepositResponse r = new WbCPSDepositResponse();
                r.orderId = orderId; r.transStatus = st; r.amount = Json.num(txn, "amount"); r.transTime = time; r.recovered = recovered;
                return r;
            }
            default: {
                WbCPSPayResponse r = new WbCPSPayResponse();
                r.orderId = orderId; r.transStatus = st; r.amount = Json.num(txn, "amount"); r.transTime = time;
                r.payType = WbCPSPayType.fromCode(Json.str(txn, "payType")); r.recovered = recovered;
                return r;
            }
        }
    }

    // ---- closing ----

    /** Ends the instance: stops the event stream and releases the host-wide lock. Safe to call twice. */
    @Override
    public void close() {
        shutdown();
    }

    private void shutdown() {
        synchronized (gate) {
            closed = true;
            queue.clear();
            held.clear();
            gate.notifyAll();
        }
        InputStream in = openStream;
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        synchronized (PROCESS_GATE) {
            if (lockChannel != null) {
                try {
                    if (lock != null) lock.release();
                } catch (IOException ignored) {
                    // the channel's close releases it too
                }
                closeQuietly();
                lock = null;
                heldInProcess = false;
            }
        }
    }

    /** Where the daemon listens, from serve.json and serve.token. */
    static final class Endpoint {
        String url;
        long pid;
        String token;

        static Endpoint read(Path home) {
            Path sj = home.resolve("serve.json");
            Path st = home.resolve("serve.token");
            String text;
            try {
                text = Files.readString(sj, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw WbPayException.lib("L0005", "no " + sj + ": the wbpay daemon is not running (start `wbpay-engine serve` or its service)", e);
            } catch (IOException e) {
                throw WbPayException.lib("L0001", "cannot read " + sj + ": " + e.getMessage(), e);
            }
            Object doc;
            try {
                doc = Json.parse(text);
            } catch (IllegalArgumentException e) {
                throw WbPayException.lib("L0001", sj + " is not JSON (" + e.getMessage() + ")", e);
            }
            Endpoint ep = new Endpoint();
            ep.url = Objects.toString(Json.str(doc, "url"), "").replaceAll("/+$", "");
            ep.pid = Json.num(doc, "pid");
            if (!ep.url.startsWith("http://") && !ep.url.startsWith("https://")) {
                throw WbPayException.lib("L0001", sj + ": field url " + (ep.url.isEmpty() ? "is missing" : "is not an http URL"), null);
            }
            try {
                ep.token = Files.readString(st, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw WbPayException.lib("L0001", "cannot read " + st + ": " + e.getMessage(), e);
            }
            if (ep.token.isEmpty()) throw WbPayException.lib("L0001", st + " is empty", null);
            return ep;
        }
    }
}
