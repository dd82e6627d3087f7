// WbCPSPay: the library spec's class, as a client of the wbpay daemon
// (local API v1: /work/shared/spec/local-api.md in the project).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace WbPay
{
    /// <summary>Options of a WbCPSPay instance (this edition's addition; the
    /// parameterless constructor uses the defaults).</summary>
    public class WbCPSPayOptions
    {
        /// <summary>The home; null: WBPAY_HOME, else C:\Wellba\WbPay on Windows.</summary>
        public string Home;
        /// <summary>When set, CompleteEvent and ErrorEvent are raised on this
        /// context (e.g. the UI thread's), one at a time; null: on the
        /// instance's own event thread.</summary>
        public SynchronizationContext EventContext;
        /// <summary>How long a request method waits for the daemon's
        /// acceptance, retries included (default 15 s).</summary>
        public TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);
    }

    /// <summary>The PAYTREE payment class of the library spec (3.1). Request
    /// methods hand the request to the wbpay daemon and return as soon as it
    /// is accepted; the outcome arrives as CompleteEvent or ErrorEvent. One
    /// instance per host at a time. Safe to call from any thread.</summary>
    public class WbCPSPay : IDisposable
    {
        private readonly string home;
        private readonly SynchronizationContext eventContext;
        private readonly TimeSpan requestTimeout;
        private readonly InstanceLock instanceLock;
        private readonly HttpClient http;       // request methods and health
        private readonly HttpClient streamHttp; // the event stream (no timeout)
        private readonly CancellationTokenSource stop = new CancellationTokenSource();
        private readonly object endpointGate = new object();
        private Endpoint endpoint;

        // Event intake (guarded by evGate): ids seen, transactions this
        // instance started, events held while a request's answer is pending.
        private readonly object evGate = new object();
        private long lastEventId;          // highest SSE id seen (dedup and Last-Event-ID)
        private readonly HashSet<string> ours = new HashSet<string>(StringComparer.Ordinal);
        private readonly HashSet<string> ourKeys = new HashSet<string>(StringComparer.Ordinal); // Idempotency-Keys sent
        private readonly List<StreamEvent> held = new List<StreamEvent>();
        private int requestsInFlight;
        private readonly List<StreamEvent> queue = new List<StreamEvent>();
        private bool closed;
        private readonly Thread dispatcher;
        private readonly TaskCompletionSource<bool> firstConnect = new TaskCompletionSource<bool>();

        /// <summary>Raised for a request that succeeded, and for a pay waiting
        /// for the customer (TransStatus 2) then paid (TransStatus 1).</summary>
        public event WbCPSCompleteEventHandler CompleteEvent;

        /// <summary>Raised for a request that failed (twice when a failed pay
        /// could not be reversed), and W0001 when PayConfirm(true) finds the
        /// customer has not approved yet.</summary>
        public event WbCPSErrorEventHandler ErrorEvent;

        /// <summary>Opens the instance on the default home. Throws
        /// WbPayException: L0001 (no home, bad serve.json/serve.token), L0005
        /// (the daemon is not running), L0006 (another instance is open on
        /// this host), L0011 (the daemon refused the token).</summary>
        public WbCPSPay() : this(null) { }

        /// <summary>Opens the instance with options (null: defaults); see WbCPSPay().</summary>
        public WbCPSPay(WbCPSPayOptions options)
        {
            options = options ?? new WbCPSPayOptions();
            eventContext = options.EventContext;
            requestTimeout = options.RequestTimeout > TimeSpan.Zero ? options.RequestTimeout : TimeSpan.FromSeconds(15);
            home = FindHome(options.Home);
            if (!Directory.Exists(home))
                throw Errors.Config("home " + home + " does not exist (set WBPAY_HOME, or install the daemon)", null);
            instanceLock = InstanceLock.Acquire(home);
            try
            {
                endpoint = Endpoint.Read(home);
                http = NewClient(requestTimeout);
                streamHttp = NewClient(Timeout.InfiniteTimeSpan);
                CheckHealth();
                dispatcher = new Thread(DispatchLoop) { IsBackground = true, Name = "WbCPSPay events" };
                dispatcher.Start();
                Task.Run(() => StreamLoop());
                // Wait until the stream is subscribed, so no event of a
                // request made after the constructor returns can be missed.
                if (!firstConnect.Task.Wait(requestTimeout))
                    throw Errors.NotRunning("the wbpay daemon at " + endpoint.Url + " did not open its event stream within " + requestTimeout.TotalSeconds + " s", null);
                if (firstConnect.Task.Result == false)
                    throw Errors.NotRunning("the wbpay daemon at " + endpoint.Url + " refused its event stream", null);
            }
            catch (AggregateException e)
            {
                Shutdown();
                var we = e.InnerException as WbPayException;
                if (we != null) throw we;
                throw;
            }
            catch
            {
                Shutdown();
                throw;
            }
        }

        private static string FindHome(string given)
        {
            if (!string.IsNullOrEmpty(given)) return given;
            string env = Environment.GetEnvironmentVariable("WBPAY_HOME");
            if (!string.IsNullOrEmpty(env)) return env;
            if (Environment.OSVersion.Platform == PlatformID.Win32NT) return @"C:\Wellba\WbPay";
            throw Errors.Config("WBPAY_HOME is not set: on this system the home must be named by WBPAY_HOME", null);
        }

        private static HttpClient NewClient(TimeSpan timeout)
        {
            var h = new HttpClientHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false };
            var c = new HttpClient(h) { Timeout = timeout };
            c.DefaultRequestHeaders.ExpectContinue = false;
            return c;
        }

        private Endpoint CurrentEndpoint()
        {
            lock (endpointGate) return endpoint;
        }

        /// <summary>Re-reads serve.json and serve.token (the daemon may have
        /// restarted on another port); keeps the old endpoint if they cannot
        /// be read now.</summary>
        private Endpoint RefreshEndpoint()
        {
            try
            {
                var ep = Endpoint.Read(home);
                lock (endpointGate) endpoint = ep;
                return ep;
            }
            catch (WbPayException)
            {
                return CurrentEndpoint();
            }
        }

        private HttpRequestMessage NewRequest(HttpMethod method, Endpoint ep, string path)
        {
            var req = new HttpRequestMessage(method, ep.Url + path);
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ep.Token);
            return req;
        }

        private void CheckHealth()
        {
            var ep = CurrentEndpoint();
            try
            {
                using (var resp = http.SendAsync(NewRequest(HttpMethod.Get, ep, "/v1/health")).GetAwaiter().GetResult())
                {
                    string body = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                    if ((int)resp.StatusCode >= 400) throw ErrorFromAnswer(resp.StatusCode, body);
                }
            }
            catch (HttpRequestException e)
            {
                throw Errors.NotRunning("the wbpay daemon of " + home + " does not answer at " + ep.Url + " (pid " + ep.Pid + "): start `wbpay-engine serve` or its service", e);
            }
            catch (TaskCanceledException e)
            {
                throw Errors.NotRunning("the wbpay daemon at " + ep.Url + " did not answer within " + requestTimeout.TotalSeconds + " s", e);
            }
        }

        // ---- request methods ----

        /// <summary>Starts a pay and returns once the daemon accepted it.
        /// Throws ArgumentNullException for null, WbPayException when it is
        /// refused before anything was sent (L0003 field, L0004 a sequence is
        /// running, L0005 closed or daemon stopping).</summary>
        public void Pay(WbCPSPayRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            var body = new Dictionary<string, object>();
            body["payType"] = Codes.Channel(request.PayType, "payType", true);
            body["amount"] = Codes.Amount(request.Amount, "amount");
            PutIf(body, "userCode", request.UserCode);
            PutIf(body, "receiptNo", request.ReceiptNo);
            PutIf(body, "remark", request.Remark);
            Submit("/v1/pay", body, true);
        }

        /// <summary>Answers a pay that waits for the customer: true asks the
        /// gateway now, false ends the wait. Throws WbPayException L0008 when
        /// no pay is waiting, L0004 while the previous answer is pending.</summary>
        public void PayConfirm(bool confirm_flag)
        {
            var body = new Dictionary<string, object>();
            body["confirm"] = confirm_flag;
            Submit("/v1/pay-confirm", body, false);
        }

        /// <summary>Starts a refund; see Pay for the exceptions.</summary>
        public void Refund(WbCPSRefundRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            var body = new Dictionary<string, object>();
            PutIf(body, "orderId", request.OrderId);
            body["refundAmount"] = Codes.Amount(request.RefundAmount, "refundAmount");
            PutIf(body, "refundReason", request.RefundReason);
            PutIf(body, "remark", request.Remark);
            Submit("/v1/refund", body, true);
        }

        /// <summary>Starts a reverse (取消); see Pay for the exceptions.</summary>
        public void Reverse(WbCPSReverseRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            var body = new Dictionary<string, object>();
            PutIf(body, "orderId", request.OrderId);
            Submit("/v1/reverse", body, true);
        }

        /// <summary>Starts a deposit (入金); see Pay for the exceptions.</summary>
        public void Deposit(WbCPSDepositRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            var body = new Dictionary<string, object>();
            body["payType"] = Codes.Channel(request.PayType, "payType", false);
            body["valueType"] = Codes.ValueType(request.ValueType);
            body["amount"] = Codes.Amount(request.Amount, "amount");
            PutIf(body, "userCode", request.UserCode);
            PutIf(body, "receiptNo", request.ReceiptNo);
            Submit("/v1/deposit", body, true);
        }

        private static void PutIf(Dictionary<string, object> body, string key, string value)
        {
            if (value != null) body[key] = value;
        }

        /// <summary>Sends one request method with a fresh Idempotency-Key and
        /// waits for its acceptance. starts: the answer is a transaction
        /// whose events this instance raises.</summary>
        private void Submit(string path, Dictionary<string, object> body, bool starts)
        {
            string key = Guid.NewGuid().ToString("N");
            lock (evGate)
            {
                if (closed) throw Errors.Closed("this WbCPSPay instance was closed");
                requestsInFlight++;
                if (starts) ourKeys.Add(key);
            }
            string txnId = null;
            try
            {
                string answer = SendWithRetry(path, Json.Write(body), key).GetAwaiter().GetResult();
                if (starts)
                {
                    object doc;
                    try { doc = Json.Parse(answer); }
                    catch (FormatException e) { throw new WbPayException(5, "L0004", "", "the daemon accepted " + path + " but its answer is not JSON (" + e.Message + "): look the request up by receiptNo", WbCPSAction.VendorCall, e); }
                    txnId = Json.Str(doc, "id");
                }
            }
            finally
            {
                lock (evGate)
                {
                    if (txnId != null) ours.Add(txnId);
                    requestsInFlight--;
                    // Events that arrived before the answer: keep this
                    // request's, drop the rest once no answer is pending.
                    for (int i = 0; i < held.Count; i++)
                    {
                        if (ours.Contains(held[i].TransactionId)) { Enqueue(held[i]); held.RemoveAt(i); i--; }
                    }
                    if (requestsInFlight == 0) held.Clear();
                }
            }
        }

        /// <summary>POSTs body to path until the daemon answers. A failure
        /// that may have left the request unanswered (connection lost,
        /// timeout) is retried with the same Idempotency-Key, against the
        /// daemon's current serve.json, so the retry never starts a second
        /// transaction. Returns the 200/202 body; throws WbPayException for
        /// an error answer.</summary>
        private async Task<string> SendWithRetry(string path, string json, string key)
        {
            DateTime deadline = DateTime.UtcNow + requestTimeout;
            bool retried = false;
            Exception last = null;
            int delayMs = 50;
            while (true)
            {
                var ep = retried ? RefreshEndpoint() : CurrentEndpoint();
                var req = NewRequest(HttpMethod.Post, ep, path);
                req.Headers.Add("Idempotency-Key", key);
                req.Content = new StringContent(json, Encoding.UTF8, "application/json");
                try
                {
                    using (var resp = await http.SendAsync(req, stop.Token).ConfigureAwait(false))
                    {
                        string text = await resp.Content.ReadAsStringAsync().ConfigureAwait(false);
                        int status = (int)resp.StatusCode;
                        if (status == 200 || status == 201 || status == 202) return text;
                        var err = ErrorFromAnswer(resp.StatusCode, text);
                        // A retry that meets a daemon still recovering or
                        // stopping tries again: the first send may have been
                        // journaled, and only the key can find it.
                        if (retried && status == 503 && DateTime.UtcNow < deadline)
                        {
                            last = err;
                        }
                        else
                        {
                            throw err;
                        }
                    }
                }
                catch (HttpRequestException e) { last = e; }
                catch (IOException e) { last = e; }
                catch (TaskCanceledException e)
                {
                    if (stop.IsCancellationRequested) throw Errors.Closed("this WbCPSPay instance was closed");
                    last = e;
                }
                catch (ObjectDisposedException)
                {
                    throw Errors.Closed("this WbCPSPay instance was closed");
                }
                if (DateTime.UtcNow >= deadline)
                {
                    var we = last as WbPayException;
                    if (we != null) throw we;
                    throw new WbPayException(5, "L0005", "", "the wbpay daemon did not accept " + path + " within " + requestTimeout.TotalSeconds +
                        " s (" + (last == null ? "no answer" : last.Message) + "); if it was sent, its outcome arrives as an event once the daemon is back", WbCPSAction.VendorCall, last);
                }
                retried = true;
                await Task.Delay(delayMs).ConfigureAwait(false);
                delayMs = Math.Min(delayMs * 2, 500);
            }
        }

        /// <summary>Makes the exception of an error answer (local API
        /// section 2): {"error":{type, code, subCode, message, action}}.</summary>
        internal static WbPayException ErrorFromAnswer(HttpStatusCode status, string body)
        {
            Dictionary<string, object> e = null;
            try { e = Json.Obj(Json.Parse(body), "error"); } catch (FormatException) { }
            if (e == null)
            {
                int code = (int)status;
                string c = code == 401 || code == 403 ? "L0011" : code == 503 ? "L0005" : code == 409 ? "L0004" : "L0003";
                return new WbPayException(5, c, "", "the daemon answered HTTP " + code + " without an error object", WbCPSAction.VendorCall, null);
            }
            string msg = Json.Str(e, "message") ?? "";
            string field = Json.Str(e, "field");
            if (!string.IsNullOrEmpty(field) && msg.IndexOf(field, StringComparison.Ordinal) < 0) msg = field + ": " + msg;
            return new WbPayException((int)Json.Num(e, "type"), Json.Str(e, "code") ?? "", Json.Str(e, "subCode") ?? "", msg,
                Codes.Action(Json.Str(e, "action")), null);
        }

        // ---- the event stream ----

        /// <summary>One SSE event of /v1/events.</summary>
        private sealed class StreamEvent
        {
            public long Id;
            public string Kind; // complete, error, state
            public string TransactionId;
            public Dictionary<string, object> Data;
        }

        /// <summary>Keeps one connection to /v1/events open for the
        /// instance's life; after a drop (daemon restart, crash) it re-reads
        /// serve.json and reconnects with Last-Event-ID, so the daemon
        /// replays every event raised meanwhile.</summary>
        private async Task StreamLoop()
        {
            int delayMs = 100;
            bool first = true;
            while (!stop.IsCancellationRequested)
            {
                var ep = first ? CurrentEndpoint() : RefreshEndpoint();
                try
                {
                    long after;
                    lock (evGate) after = lastEventId;
                    var req = NewRequest(HttpMethod.Get, ep, after > 0 ? "/v1/events" : (first ? "/v1/events" : "/v1/events?after=0"));
                    req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                    if (after > 0) req.Headers.Add("Last-Event-ID", after.ToString(CultureInfo.InvariantCulture));
                    using (var resp = await streamHttp.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, stop.Token).ConfigureAwait(false))
                    {
                        if ((int)resp.StatusCode != 200)
                        {
                            string text = await resp.Content.ReadAsStringAsync().ConfigureAwait(false);
                            var err = ErrorFromAnswer(resp.StatusCode, text);
                            if (first) { firstConnect.TrySetException(err); return; }
                            throw new IOException("event stream: HTTP " + (int)resp.StatusCode + " " + err.Code);
                        }
                        firstConnect.TrySetResult(true);
                        first = false;
                        delayMs = 100;
                        using (var stream = await resp.Content.ReadAsStreamAsync().ConfigureAwait(false))
                        {
                            await ReadEvents(stream).ConfigureAwait(false);
                        }
                    }
                }
                catch (Exception e)
                {
                    if (stop.IsCancellationRequested) return;
                    if (first)
                    {
                        firstConnect.TrySetException(Errors.NotRunning("the wbpay daemon at " + ep.Url + " did not open its event stream: " + e.Message, e));
                        return;
                    }
                }
                if (stop.IsCancellationRequested) return;
                try { await Task.Delay(delayMs, stop.Token).ConfigureAwait(false); } catch (TaskCanceledException) { return; }
                delayMs = Math.Min(delayMs * 2, 1000);
            }
        }

        /// <summary>Reads SSE frames until the stream ends, or stays silent
        /// longer than three keep-alive periods (45 s).</summary>
        private async Task ReadEvents(Stream stream)
        {
            var reader = new StreamReader(stream, new UTF8Encoding(false));
            string id = null, kind = null;
            var data = new StringBuilder();
            TimeSpan silence = TimeSpan.FromSeconds(45);
            while (!stop.IsCancellationRequested)
            {
                var read = reader.ReadLineAsync();
                var done = await Task.WhenAny(read, Task.Delay(silence, stop.Token)).ConfigureAwait(false);
                if (done != read) return; // silent or closing: the caller reconnects or stops
                string line = await read.ConfigureAwait(false);
                if (line == null) return;
                if (line.Length == 0)
                {
                    if (data.Length > 0 || kind != null) Accept(id, kind ?? "message", data.ToString());
                    id = null; kind = null; data.Length = 0;
                    continue;
                }
                if (line[0] == ':') continue; // comment: keep-alive
                int colon = line.IndexOf(':');
                string field = colon < 0 ? line : line.Substring(0, colon);
                string value = colon < 0 ? "" : line.Substring(colon + 1);
                if (value.StartsWith(" ", StringComparison.Ordinal)) value = value.Substring(1);
                switch (field)
                {
                    case "id": id = value; break;
                    case "event": kind = value; break;
                    case "data":
                        if (data.Length > 0) data.Append('\n');
                        data.Append(value);
                        break;
                }
            }
        }

        /// <summary>Takes one frame: drops a duplicate (id not above the last
        /// seen), and queues complete/error events of this instance's
        /// transactions in id order.</summary>
        private void Accept(string idText, string kind, string dataText)
        {
            long id;
            if (!long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out id)) return;
            Dictionary<string, object> data = null;
            try { data = Json.Parse(dataText) as Dictionary<string, object>; } catch (FormatException) { }
            lock (evGate)
            {
                if (id <= lastEventId) return;
                lastEventId = id;
                if (data == null || (kind != "complete" && kind != "error")) return;
                var txn = Json.Obj(data, "transaction");
                var ev = new StreamEvent { Id = id, Kind = kind, Data = data, TransactionId = Json.Str(data, "transactionId") ?? Json.Str(txn, "id") ?? "" };
                // Ours: a transaction whose id a request method got back, or
                // whose Idempotency-Key it sent (a request whose answer never
                // came, started all the same).
                string key = Json.Str(txn, "idempotencyKey");
                if (key != null && ourKeys.Contains(key)) ours.Add(ev.TransactionId);
                if (ours.Contains(ev.TransactionId)) Enqueue(ev);
                else if (requestsInFlight > 0) held.Add(ev);
            }
        }

        // Under evGate.
        private void Enqueue(StreamEvent ev)
        {
            int at = queue.Count;
            while (at > 0 && queue[at - 1].Id > ev.Id) at--;
            queue.Insert(at, ev);
            Monitor.PulseAll(evGate);
        }

        /// <summary>Raises queued events one at a time, in order, on the
        /// event thread or the given SynchronizationContext. A handler may
        /// start the next request.</summary>
        private void DispatchLoop()
        {
            while (true)
            {
                StreamEvent ev;
                lock (evGate)
                {
                    while (queue.Count == 0 && !closed) Monitor.Wait(evGate);
                    if (closed) return;
                    ev = queue[0];
                    queue.RemoveAt(0);
                }
                if (eventContext != null)
                {
                    eventContext.Send(_ => Raise(ev), null);
                }
                else
                {
                    Raise(ev);
                }
            }
        }

        private void Raise(StreamEvent ev)
        {
            try
            {
                var txn = Json.Obj(ev.Data, "transaction");
                bool recovered = Json.Bool(ev.Data, "recovered");
                WbCPSRequestType type = Codes.RequestType(Json.Str(ev.Data, "requestType"), Json.Str(txn, "operation"));
                if (ev.Kind == "complete")
                {
                    var h = CompleteEvent;
                    if (h != null) h(type, Codes.Response(type, txn, recovered));
                }
                else
                {
                    var h = ErrorEvent;
                    if (h != null) h(type, Codes.ResponseError(Json.Obj(ev.Data, "error"), recovered));
                }
            }
            catch (Exception e)
            {
                // A throwing handler must not stop the events that follow.
                System.Diagnostics.Trace.WriteLine("WbCPSPay: event handler threw: " + e);
            }
        }

        // ---- closing ----

        /// <summary>Ends the instance: stops the event stream and releases
        /// the host-wide lock, so another instance may open. A sequence the
        /// daemon is running goes on; its outcome is in the daemon's journal.
        /// Safe to call twice.</summary>
        public void Close()
        {
            Shutdown();
        }

        /// <summary>Same as Close.</summary>
        public void Dispose()
        {
            Shutdown();
        }

        private void Shutdown()
        {
            lock (evGate)
            {
                if (closed && instanceLockReleased) return;
                closed = true;
                queue.Clear();
                held.Clear();
                Monitor.PulseAll(evGate);
            }
            try { stop.Cancel(); } catch (ObjectDisposedException) { }
            if (http != null) http.Dispose();
            if (streamHttp != null) streamHttp.Dispose();
            if (instanceLock != null) instanceLock.Release();
            instanceLockReleased = true;
        }

        private bool instanceLockReleased;
    }
}
