package jp.wellba.wbpay.test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import jp.wellba.wbpay.WbCPSDepositRequest;
import jp.wellba.wbpay.WbCPSDepositResponse;
import jp.wellba.wbpay.WbCPSPay;
import jp.wellba.wbpay.WbCPSPayRequest;
import jp.wellba.wbpay.WbCPSPayResponse;
import jp.wellba.wbpay.WbCPSPayType;
import jp.wellba.wbpay.WbCPSRefundRequest;
import jp.wellba.wbpay.WbCPSRefundResponse;
import jp.wellba.wbpay.WbCPSRequestType;
import jp.wellba.wbpay.WbCPSResponseError;
import jp.wellba.wbpay.WbPayException;

/**
 * The Java client's test program, run by clients/clients_test.go against the
 * real daemon (PayConfirmPollingMode=no) with WBPAY_HOME set. It prints
 * "@@KILL_DAEMON" to have the harness SIGKILL and restart the daemon, which
 * answers "@@RESTARTED" on stdin. The last line is "N passed, M failed".
 */
public final class WbPayTest {
    private static int passed, failed;
    private static WbCPSPay pay;
    private static final Deque<Object[]> events = new ArrayDeque<>();
    private static final AtomicInteger inHandler = new AtomicInteger();
    private static int overlaps;
    private static final BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    private interface Body { void run() throws Exception; }

    private static void run(String name, Body b) {
        try {
            b.run();
            List<Object[]> left = drain(50);
            if (!left.isEmpty()) throw new AssertionError("unexpected event after the test: " + show(left.get(0)));
            passed++;
            System.out.println("PASS " + name);
        } catch (Throwable e) {
            failed++;
            System.out.println("FAIL " + name + ": " + e);
            drain(3000);
        }
        System.out.flush();
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError("check failed: " + what);
    }

    private static void add(Object[] ev) {
        if (inHandler.incrementAndGet() != 1) overlaps++;
        try {
            synchronized (events) {
                events.add(ev);
                events.notifyAll();
            }
        } finally {
            inHandler.decrementAndGet();
        }
    }

    private static Object[] next(double seconds) throws InterruptedException {
        long end = System.currentTimeMillis() + (long) (seconds * 1000);
        synchronized (events) {
            while (events.isEmpty()) {
                long left = end - System.currentTimeMillis();
                if (left <= 0) throw new AssertionError("no event within " + seconds + " s");
                events.wait(left);
            }
            return events.poll();
        }
    }

    private static List<Object[]> drain(long ms) {
        List<Object[]> out = new ArrayList<>();
        long end = System.currentTimeMillis() + ms;
        synchronized (events) {
            while (true) {
                while (!events.isEmpty()) out.add(events.poll());
                long left = end - System.currentTimeMillis();
                if (left <= 0) return out;
                try {
                    events.wait(left);
                } catch (InterruptedException e) {
                    return out;
                }
            }
        }
    }

    private static String show(Object[] ev) { return (ev[0].equals("complete") ? "CompleteEvent(" : "ErrorEvent(") + ev[1] + ", " + ev[2] + ")"; }

    private static WbCPSPayResponse paid(Object[] ev, int status) {
        check(ev[0].equals("complete") && ev[2] instanceof WbCPSPayResponse, "a pay CompleteEvent, got " + show(ev));
        WbCPSPayResponse r = (WbCPSPayResponse) ev[2];
        check(r.transStatus == status, "transStatus " + status + ": " + show(ev));
        check(r.orderId.length() == 32 && r.transTime.length() == 14, "orderId and transTime: " + show(ev));
        return r;
    }

    private static WbCPSResponseError failedWith(Object[] ev, String code) {
        check(ev[0].equals("error"), "an ErrorEvent " + code + ", got " + show(ev));
        WbCPSResponseError e = (WbCPSResponseError) ev[2];
        check(e.code.equals(code), code + ", got " + show(ev));
        return e;
    }

    private static void throwsCode(String code, Body b) throws Exception {
        try {
            b.run();
        } catch (WbPayException e) {
            check(e.getCode().equals(code) && e.getType() == 5, "want " + code + ", got " + e);
            return;
        }
        throw new AssertionError("want WbPayException " + code + ", nothing thrown");
    }

    private static String classCode(int n) { return "99" + "0".repeat(15) + n; }

    private static WbCPSPayRequest payReq(int cls, long amount) {
        WbCPSPayRequest r = new WbCPSPayRequest();
        r.payType = WbCPSPayType.PayPay;
        r.amount = amount;
        r.userCode = classCode(cls);
        return r;
    }

    private static Object[] confirmUntilSettled(double seconds) throws Exception {
        long end = System.currentTimeMillis() + (long) (seconds * 1000);
        while (true) {
            pay.payConfirm(true);
            Object[] ev = next(20);
            if (ev[0].equals("complete") || !((WbCPSResponseError) ev[2]).code.equals("W0001")) return ev;
            if (System.currentTimeMillis() > end) throw new AssertionError("still W0001 after " + seconds + " s");
            Thread.sleep(300);
        }
    }

    private static String order(String o) { return o + "0".repeat(32 - o.length()); }

    private static WbCPSPayRequest lineReq(long amount) {
        WbCPSPayRequest r = new WbCPSPayRequest();
        r.payType = WbCPSPayType.LinePay;
        r.amount = amount;
        r.userCode = "3612345678901234";
        return r;
    }

    /** Against the scripted daemon of clients/protocol_test.go. */
    private static void protocol() {
        run("an answer lost once: retried with the same key; a foreign event and a duplicate id are dropped", () -> {
            pay.pay(lineReq(1001));
            check(paid(next(10), 1).orderId.equals(order("O1")), "order O1");
        });
        run("an event that arrives before the request's answer is raised after it", () -> {
            pay.pay(lineReq(1002));
            WbCPSPayResponse r = paid(next(10), 1);
            check(r.orderId.equals(order("O2")) && r.transTime.equals("20261201101500") && r.payType == WbCPSPayType.LinePay, "fields: " + r + " " + r.transTime);
        });
        run("the daemon moves to another port: reconnect with Last-Event-ID, the recovered outcome once", () -> {
            pay.pay(lineReq(1003));
            WbCPSPayResponse w = paid(next(10), 2);
            WbCPSPayResponse p = paid(next(20), 1);
            check(w.orderId.equals(order("O3")) && p.orderId.equals(order("O3")) && p.recovered && !w.recovered, "O3 waiting then recovered paid: " + p);
        });
        run("409 L0004 with action Retry is thrown", () -> {
            try {
                pay.pay(lineReq(1004));
            } catch (WbPayException e) {
                check(e.getCode().equals("L0004") && e.getRequestAction() == jp.wellba.wbpay.WbCPSAction.Retry, "L0004 Retry, got " + e);
                return;
            }
            throw new AssertionError("nothing thrown");
        });
        run("400 L0003 names the field", () -> throwsCode("L0003", () -> pay.pay(lineReq(1006))));
        run("a failed pay whose reverse was not achieved: two ErrorEvents in order", () -> {
            pay.pay(lineReq(1005));
            WbCPSResponseError a = failedWith(next(10), "N0002");
            WbCPSResponseError b = failedWith(next(10), "P0001");
            check(a.type == 2 && b.type == 6, "types " + a.type + " " + b.type);
        });
        run("refund: the response's fields", () -> {
            WbCPSRefundRequest rf = new WbCPSRefundRequest();
            rf.orderId = order("O1");
            rf.refundAmount = 1;
            pay.refund(rf);
            Object[] ev = next(10);
            check(ev[2] instanceof WbCPSRefundResponse, "a refund response: " + show(ev));
            WbCPSRefundResponse r = (WbCPSRefundResponse) ev[2];
            check(r.orderId.equals(order("O1")) && r.refundAmount == 1 && r.transStatus == 9 && r.transTime.equals("20261201101500"), "fields: " + r);
        });
        run("PayConfirm: 409 L0008 is thrown", () -> throwsCode("L0008", () -> pay.payConfirm(true)));
        run("every answer lost: L0005 after requestTimeout, then the outcome arrives by its Idempotency-Key", () -> {
            throwsCode("L0005", () -> pay.pay(lineReq(1007)));
            check(paid(next(10), 1).orderId.equals(order("O7")), "order O7");
        });
        run("503 L0005 is thrown at once", () -> throwsCode("L0005", () -> pay.pay(lineReq(1))));
        pay.close();
        run("listeners never overlap", () -> check(overlaps == 0, overlaps + " overlaps"));
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("try-open")) {
            try {
                new WbCPSPay().close();
                System.out.println("opened");
                System.exit(1);
            } catch (WbPayException e) {
                System.out.println(e);
                System.exit(e.getCode().equals("L0006") ? 0 : 1);
            }
        }
        System.out.println("WbPayTest (Java), home " + System.getenv("WBPAY_HOME"));
        jp.wellba.wbpay.WbCPSPayOptions opts = new jp.wellba.wbpay.WbCPSPayOptions();
        if (args.length > 0 && args[0].equals("protocol")) opts.requestTimeout = java.time.Duration.ofSeconds(2);
        pay = new WbCPSPay(opts);
        pay.addCompleteListener((t, r) -> add(new Object[] {"complete", t, r}));
        pay.addErrorListener((t, e) -> add(new Object[] {"error", t, e}));
        if (args.length > 0 && args[0].equals("protocol")) {
            protocol();
            return;
        }
        run("a second instance throws L0006", () -> throwsCode("L0006", () -> new WbCPSPay().close()));
        run("null request throws NullPointerException", () -> {
            try {
                pay.pay(null);
            } catch (NullPointerException e) {
                return;
            }
            throw new AssertionError("no NullPointerException");
        });
        run("invalid amount throws L0003", () -> throwsCode("L0003", () -> pay.pay(payReq(0, 0))));
        run("PayConfirm with nothing waiting throws L0008", () -> throwsCode("L0008", () -> pay.payConfirm(true)));
        run("pay class 0, refund part and the rest", () -> {
            pay.pay(payReq(0, 1000));
            WbCPSPayResponse p = paid(next(20), 1);
            check(p.amount == 1000 && p.payType == WbCPSPayType.PayPay, "amount and payType: " + p);
            WbCPSRefundRequest rf = new WbCPSRefundRequest();
            rf.orderId = p.orderId;
            rf.refundAmount = 300;
            pay.refund(rf);
            Object[] ev = next(20);
            check(ev[1] == WbCPSRequestType.Refund && ev[2] instanceof WbCPSRefundResponse, "refund CompleteEvent: " + show(ev));
            WbCPSRefundResponse r = (WbCPSRefundResponse) ev[2];
            check(r.transStatus == 9 && r.refundAmount == 300, "PARTIALLY_REFUNDED 300: " + r);
            rf.refundAmount = 800;
            pay.refund(rf);
            failedWith(next(20), "E3002");
        });
        run("pay class 3: ErrorEvent E2001", () -> {
            pay.pay(payReq(3, 1100));
            failedWith(next(20), "E2001");
        });
        run("deposit LinePay", () -> {
            WbCPSDepositRequest d = new WbCPSDepositRequest();
            d.amount = 2000;
            d.userCode = "3612345678901234";
            pay.deposit(d);
            Object[] ev = next(20);
            check(ev[2] instanceof WbCPSDepositResponse && ((WbCPSDepositResponse) ev[2]).transStatus == 10, "DEPOSITED: " + show(ev));
        });
        run("pay class 1: CompleteEvent waiting, PayConfirm(true) until paid", () -> {
            pay.pay(payReq(1, 1200));
            WbCPSPayResponse w = paid(next(20), 2);
            throwsCode("L0004", () -> pay.pay(payReq(0, 1)));
            WbCPSPayResponse p = paid(confirmUntilSettled(30), 1);
            check(p.orderId.equals(w.orderId), "the same order");
        });
        run("kill -9 of the daemon while a pay waits: the final event once", () -> {
            pay.pay(payReq(1, 1300));
            WbCPSPayResponse w = paid(next(20), 2);
            System.out.println("@@KILL_DAEMON");
            System.out.flush();
            String line = stdin.readLine();
            check("@@RESTARTED".equals(line), "harness answered " + line);
            long end = System.currentTimeMillis() + 60000;
            Object[] ev = null;
            while (ev == null) {
                try {
                    ev = confirmUntilSettled(30);
                } catch (WbPayException e) {
                    if (System.currentTimeMillis() > end) throw e;
                    Thread.sleep(200);
                }
            }
            WbCPSPayResponse p = paid(ev, 1);
            check(p.orderId.equals(w.orderId), "the same order");
            List<Object[]> more = drain(1000);
            check(more.isEmpty(), "no further event, got " + (more.isEmpty() ? "" : show(more.get(0))));
        });
        run("after the restart the same instance pays again", () -> {
            pay.pay(payReq(0, 100));
            paid(next(20), 1);
        });
        pay.close();
        run("close then pay throws L0005", () -> throwsCode("L0005", () -> pay.pay(payReq(0, 100))));
        run("close lets another instance open", () -> new WbCPSPay().close());
        run("listeners never overlap", () -> check(overlaps == 0, overlaps + " overlaps"));
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
