// The test program of WbPay.dll, run by clients/clients_test.go against the
// real daemon (wbpay-engine serve) and the PAYTREE simulator. It is also an
// example of the library spec's API as a POS uses it. Modes:
//   mono WbPayTest.exe main      the daemon's home has PayConfirmPollingMode=no
//   mono WbPayTest.exe polling   the home has PayConfirmPollingMode=yes
//   mono WbPayTest.exe unachieved-reverse   the gateway never processes a reverse
//   mono WbPayTest.exe protocol  against the scripted daemon of protocol_test.go
//   mono WbPayTest.exe try-open  exits 0 when opening an instance throws L0006
//   mono WbPayTest.exe hold      holds an instance open until stdin closes
// WBPAY_HOME names the home. To crash the daemon it prints the line
// "@@KILL_DAEMON"; the harness SIGKILLs and restarts it, then writes
// "@@RESTARTED" to stdin. The last line is "N passed, M failed".
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using WbPay;

internal sealed class Ev
{
    public bool Complete;
    public WbCPSRequestType Type;
    public object Response;
    public WbCPSResponseError Error;
    public int Thread;

    public override string ToString()
    {
        if (!Complete) return "ErrorEvent(" + Type + ", " + Error.Code + " type " + Error.Type + " " + Error.RequestAction + ": " + Error.Message + (Error.Recovered ? ", recovered" : "") + ")";
        var p = Response as WbCPSPayResponse;
        if (p != null) return "CompleteEvent(" + Type + ", pay " + p.OrderId + " status " + p.TransStatus + " " + p.Amount + " " + p.PayType + (p.Recovered ? ", recovered" : "") + ")";
        var r = Response as WbCPSRefundResponse;
        if (r != null) return "CompleteEvent(" + Type + ", refund " + r.OrderId + " status " + r.TransStatus + " " + r.RefundAmount + ")";
        var v = Response as WbCPSReverseResponse;
        if (v != null) return "CompleteEvent(" + Type + ", reverse " + v.OrderId + " status " + v.TransStatus + " " + v.Amount + ")";
        var d = Response as WbCPSDepositResponse;
        if (d != null) return "CompleteEvent(" + Type + ", deposit " + d.OrderId + " status " + d.TransStatus + " " + d.Amount + ")";
        return "CompleteEvent(" + Type + ", " + Response + ")";
    }
}

/// <summary>Collects the events of one instance and checks that handlers
/// never overlap.</summary>
internal sealed class Events
{
    private readonly object gate = new object();
    private readonly Queue<Ev> q = new Queue<Ev>();
    private int inHandler;
    public int Overlaps;
    public Action<Ev> Hook; // runs inside the handler (a request from an event handler)

    public void Attach(WbCPSPay pay)
    {
        pay.CompleteEvent += (t, r) => Add(new Ev { Complete = true, Type = t, Response = r });
        pay.ErrorEvent += (t, e) => Add(new Ev { Complete = false, Type = t, Error = e });
    }

    private void Add(Ev ev)
    {
        if (Interlocked.Increment(ref inHandler) != 1) Interlocked.Increment(ref Overlaps);
        ev.Thread = Thread.CurrentThread.ManagedThreadId;
        try
        {
            var h = Hook;
            if (h != null) h(ev);
            lock (gate) { q.Enqueue(ev); Monitor.PulseAll(gate); }
            Thread.Sleep(5); // a handler that takes a moment: the next event must wait for it
        }
        finally { Interlocked.Decrement(ref inHandler); }
    }

    /// <summary>The next event within seconds, or an exception saying none came.</summary>
    public Ev Next(double seconds)
    {
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        lock (gate)
        {
            while (q.Count == 0)
            {
                var left = end - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) throw new Exception("no event within " + seconds + " s");
                Monitor.Wait(gate, left);
            }
            return q.Dequeue();
        }
    }

    /// <summary>Events that arrive within seconds (for "no more events").</summary>
    public List<Ev> Drain(double seconds)
    {
        var all = new List<Ev>();
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        lock (gate)
        {
            while (true)
            {
                while (q.Count > 0) all.Add(q.Dequeue());
                var left = end - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return all;
                Monitor.Wait(gate, left);
            }
        }
    }
}

/// <summary>A SynchronizationContext with one thread of its own, like a UI
/// thread's: Send and Post run the callback there.</summary>
internal sealed class OneThreadContext : SynchronizationContext
{
    private readonly Queue<Action> work = new Queue<Action>();
    public readonly Thread Thread;
    public int Sends;

    public OneThreadContext()
    {
        Thread = new Thread(Loop) { IsBackground = true, Name = "test UI thread" };
        Thread.Start();
    }

    private void Loop()
    {
        SetSynchronizationContext(this);
        while (true)
        {
            Action a;
            lock (work)
            {
                while (work.Count == 0) Monitor.Wait(work);
                a = work.Dequeue();
            }
            a();
        }
    }

    public override void Post(SendOrPostCallback d, object state)
    {
        lock (work) { work.Enqueue(() => d(state)); Monitor.PulseAll(work); }
    }

    public override void Send(SendOrPostCallback d, object state)
    {
        Interlocked.Increment(ref Sends);
        if (System.Threading.Thread.CurrentThread == Thread) { d(state); return; }
        var done = new ManualResetEvent(false);
        Exception err = null;
        Post(s => { try { d(s); } catch (Exception e) { err = e; } finally { done.Set(); } }, state);
        done.WaitOne();
        if (err != null) throw err;
    }
}

internal static class Program
{
    private static int passed, failed;
    private static WbCPSPay pay;
    private static Events ev;

    private static string ClassCode(int n) { return "99" + new string('0', 15) + n; }

    private static void Check(bool ok, string what)
    {
        if (!ok) throw new Exception("check failed: " + what);
    }

    private static void Run(string name, Action body)
    {
        try
        {
            body();
            var left = ev == null ? new List<Ev>() : ev.Drain(0.05);
            if (left.Count > 0) throw new Exception("unexpected event after the test: " + left[0]);
            passed++;
            Console.WriteLine("PASS " + name);
        }
        catch (Exception e)
        {
            failed++;
            Console.WriteLine("FAIL " + name + ": " + e.Message);
            Console.WriteLine("     " + e.GetType().Name + (e.StackTrace == null ? "" : e.StackTrace.Replace("\n", "\n     ")));
            if (ev != null) ev.Drain(3); // let the failed sequence end before the next test
        }
        Console.Out.Flush();
    }

    private static WbPayException Throws(string code, Action a)
    {
        try { a(); }
        catch (WbPayException e)
        {
            if (e.Code != code) throw new Exception("want WbPayException " + code + ", got " + e.Code + ": " + e.Message);
            if (e.Type != 5) throw new Exception(code + ": want Type 5, got " + e.Type);
            return e;
        }
        throw new Exception("want WbPayException " + code + ", nothing thrown");
    }

    private static void ThrowsNull(Action a)
    {
        try { a(); }
        catch (ArgumentNullException) { return; }
        throw new Exception("want ArgumentNullException");
    }

    private static WbCPSPayResponse Paid(Ev e, int status)
    {
        Check(e.Complete, "want a CompleteEvent, got " + e);
        Check(e.Type == WbCPSRequestType.Pay || e.Type == WbCPSRequestType.Confirm, "type Pay, got " + e);
        var r = e.Response as WbCPSPayResponse;
        Check(r != null, "response is a WbCPSPayResponse: " + e);
        Check(r.TransStatus == status, "TransStatus " + status + ": " + e);
        Check(r.OrderId != null && r.OrderId.Length == 32, "OrderId of 32 characters: " + e);
        Check(r.TransTime != null && r.TransTime.Length == 14, "TransTime yyyyMMddHHmmss, got '" + r.TransTime + "'");
        return r;
    }

    private static WbCPSResponseError Failed(Ev e, string code)
    {
        Check(!e.Complete, "want an ErrorEvent " + code + ", got " + e);
        if (code != null) Check(e.Error.Code == code, "code " + code + ", got " + e);
        return e.Error;
    }

    private static WbCPSPayRequest PayReq(int cls, decimal amount)
    {
        return new WbCPSPayRequest { PayType = WbCPSPayType.PayPay, Amount = amount, UserCode = ClassCode(cls), ReceiptNo = "R" + Environment.TickCount };
    }

    /// <summary>A paid order to refund or reverse.</summary>
    private static string PaidOrder(decimal amount)
    {
        pay.Pay(PayReq(0, amount));
        return Paid(ev.Next(20), 1).OrderId;
    }

    /// <summary>PayConfirm(true) until the event is not W0001; returns it.</summary>
    private static Ev ConfirmUntilSettled(double seconds)
    {
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            pay.PayConfirm(true);
            var e = ev.Next(20);
            if (e.Complete || e.Error.Code != "W0001") return e;
            Check(e.Error.RequestAction == WbCPSAction.Customer, "W0001 action Customer: " + e);
            if (DateTime.UtcNow > end) throw new Exception("still W0001 after " + seconds + " s");
            Thread.Sleep(300);
        }
    }

    private static void KillDaemon()
    {
        Console.WriteLine("@@KILL_DAEMON");
        Console.Out.Flush();
        string line = Console.ReadLine();
        if (line != "@@RESTARTED") throw new Exception("harness answered '" + line + "' instead of @@RESTARTED");
    }

    private static string Home { get { return Environment.GetEnvironmentVariable("WBPAY_HOME"); } }

    private static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "main";
        if (mode == "hold")
        {
            // Holds an instance until stdin closes (the lock test of protocol_test.go).
            var held = new WbCPSPay();
            Console.WriteLine("@@HOLDING");
            Console.Out.Flush();
            Console.In.ReadToEnd();
            held.Close();
            return 0;
        }
        if (mode == "try-open")
        {
            try { new WbCPSPay().Close(); Console.WriteLine("opened"); return 1; }
            catch (WbPayException e) { Console.WriteLine(e.Code + ": " + e.Message); return e.Code == "L0006" ? 0 : 1; }
        }
        Console.WriteLine("WbPayTest " + mode + ", home " + Home);
        if (mode == "protocol") return Protocol();
        if (mode == "main") Constructor();
        pay = new WbCPSPay();
        ev = new Events();
        ev.Attach(pay);
        if (mode == "polling") Polling();
        else if (mode == "unachieved-reverse") UnachievedReverse();
        else MainTests();
        pay.Close();
        Run("Close then Pay throws L0005", () => Throws("L0005", () => pay.Pay(PayReq(0, 100))));
        Run("Close lets another instance open", () => { var p = new WbCPSPay(); p.Close(); });
        Run("handlers never overlap", () => Check(ev.Overlaps == 0, ev.Overlaps + " overlapping handler calls"));
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static void Constructor()
    {
        Run("constructor: home missing throws L0001", () =>
            Throws("L0001", () => new WbCPSPay(new WbCPSPayOptions { Home = Path.Combine(Path.GetTempPath(), "wbpay-no-such-home-" + Guid.NewGuid()) })));
        string tmp = Path.Combine(Path.GetTempPath(), "wbpay-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tmp);
        try
        {
            Run("constructor: daemon not running (no serve.json) throws L0005", () =>
                Throws("L0005", () => new WbCPSPay(new WbCPSPayOptions { Home = tmp })));
            Run("constructor: stale serve.json of a killed daemon throws L0005", () =>
            {
                var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
                l.Start();
                int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
                l.Stop(); // nothing listens there now
                File.WriteAllText(Path.Combine(tmp, "serve.json"), "{\"url\":\"http://127.0.0.1:" + port + "\",\"pid\":999999,\"startedAt\":\"2026-12-01T10:00:00+09:00\"}");
                File.WriteAllText(Path.Combine(tmp, "serve.token"), new string('a', 64));
                Throws("L0005", () => new WbCPSPay(new WbCPSPayOptions { Home = tmp }));
            });
            Run("constructor: malformed serve.json throws L0001", () =>
            {
                File.WriteAllText(Path.Combine(tmp, "serve.json"), "{\"url\":");
                Throws("L0001", () => new WbCPSPay(new WbCPSPayOptions { Home = tmp }));
            });
            Run("constructor: wrong token throws L0011", () =>
            {
                File.Copy(Path.Combine(Home, "serve.json"), Path.Combine(tmp, "serve.json"), true);
                File.WriteAllText(Path.Combine(tmp, "serve.token"), new string('0', 64));
                Throws("L0011", () => new WbCPSPay(new WbCPSPayOptions { Home = tmp }));
            });
        }
        finally { Directory.Delete(tmp, true); }
        Run("constructor: a second instance in this process throws L0006", () =>
        {
            var first = new WbCPSPay();
            try { Throws("L0006", () => new WbCPSPay()); }
            finally { first.Close(); }
        });
        Run("constructor: a second instance in another process throws L0006", () =>
        {
            var first = new WbCPSPay();
            try
            {
                var psi = new ProcessStartInfo("mono", "\"" + typeof(Program).Assembly.Location + "\" try-open") { UseShellExecute = false, RedirectStandardOutput = true };
                using (var p = Process.Start(psi))
                {
                    string output = p.StandardOutput.ReadToEnd();
                    p.WaitForExit();
                    Check(p.ExitCode == 0, "the other process did not get L0006: " + output.Trim());
                }
            }
            finally { first.Close(); }
        });
    }

    private static void MainTests()
    {
        Run("null requests throw ArgumentNullException", () =>
        {
            ThrowsNull(() => pay.Pay(null));
            ThrowsNull(() => pay.Refund(null));
            ThrowsNull(() => pay.Reverse(null));
            ThrowsNull(() => pay.Deposit(null));
        });
        Run("invalid fields throw L0003 before anything is sent", () =>
        {
            Throws("L0003", () => pay.Pay(new WbCPSPayRequest { PayType = WbCPSPayType.PayPay, Amount = 0, UserCode = ClassCode(0) }));
            Throws("L0003", () => pay.Pay(new WbCPSPayRequest { PayType = WbCPSPayType.PayPay, Amount = 100 }));
            Throws("L0003", () => pay.Pay(new WbCPSPayRequest { PayType = WbCPSPayType.PayPay, Amount = 100, UserCode = ClassCode(0), ReceiptNo = new string('1', 33) }));
            Throws("L0003", () => pay.Pay(new WbCPSPayRequest { PayType = WbCPSPayType.JCBAliPay, Amount = 100, UserCode = ClassCode(0) }));
            Throws("L0003", () => pay.Refund(new WbCPSRefundRequest { OrderId = "", RefundAmount = 100 }));
            Throws("L0003", () => pay.Reverse(new WbCPSReverseRequest { OrderId = new string('x', 33) }));
            Throws("L0003", () => pay.Deposit(new WbCPSDepositRequest { PayType = WbCPSPayType.AutoDetect, ValueType = WbCPSValueType.Basic, Amount = 100, UserCode = "1234" }));
        });
        Run("PayConfirm with no pay waiting throws L0008", () => Throws("L0008", () => pay.PayConfirm(true)));
        Run("pay class 0: CompleteEvent PAID", () =>
        {
            pay.Pay(PayReq(0, 1234.9m));
            var r = Paid(ev.Next(20), 1);
            Check(r.Amount == 1234, "Amount 1234 (fraction truncated), got " + r.Amount);
            Check(r.PayType == WbCPSPayType.PayPay, "PayType PayPay, got " + r.PayType);
        });
        Run("pay AutoDetect: the gateway picks the channel by the user code", () =>
        {
            pay.Pay(new WbCPSPayRequest { PayType = WbCPSPayType.AutoDetect, Amount = 500, UserCode = "281234567890123456" });
            var r = Paid(ev.Next(20), 1);
            Check(r.PayType == WbCPSPayType.PayPay, "PayType PayPay, got " + r.PayType);
        });
        Run("pay class 1 + PayConfirm(true): CompleteEvent twice (status 2, then 1), W0001 before approval", () =>
        {
            pay.Pay(PayReq(1, 2000));
            var w = Paid(ev.Next(20), 2);
            Throws("L0004", () => pay.Pay(PayReq(0, 100)));
            Throws("L0004", () => pay.Refund(new WbCPSRefundRequest { OrderId = w.OrderId, RefundAmount = 1 }));
            var e = ConfirmUntilSettled(30);
            var p = Paid(e, 1);
            Check(p.OrderId == w.OrderId, "the same order");
        });
        Run("pay class 1 + PayConfirm(false): the wait ends, reversed, one ErrorEvent", () =>
        {
            pay.Pay(PayReq(1, 2100));
            Paid(ev.Next(20), 2);
            pay.PayConfirm(false);
            var e = ev.Next(20);
            if (e.Complete) Paid(e, 1); // the customer approved in between: paid is a correct answer too
            else Check(e.Error.Code != "W0001", "a final error, got " + e);
            Throws("L0008", () => pay.PayConfirm(true));
        });
        Run("pay class 2: network error, reversed: one ErrorEvent of Type 2", () =>
        {
            pay.Pay(PayReq(2, 2200));
            var e = ev.Next(60);
            Check(!e.Complete && e.Error.Type == 2, "ErrorEvent of Type 2, got " + e);
            var more = ev.Drain(0.5);
            Check(more.Count == 0, "one ErrorEvent, then " + (more.Count > 0 ? more[0].ToString() : ""));
        });
        Run("pay class 3: E2001 Customer", () => { pay.Pay(PayReq(3, 2300)); var x = Failed(ev.Next(20), "E2001"); Check(x.Type == 9 && x.RequestAction == WbCPSAction.Customer, x.Type + " " + x.RequestAction); });
        Run("pay class 4: E2002 Customer", () => { pay.Pay(PayReq(4, 2400)); var x = Failed(ev.Next(20), "E2002"); Check(x.RequestAction == WbCPSAction.Customer, "" + x.RequestAction); });
        Run("pay class 5: E2003 CPSCall", () => { pay.Pay(PayReq(5, 2500)); var x = Failed(ev.Next(20), "E2003"); Check(x.RequestAction == WbCPSAction.CPSCall, "" + x.RequestAction); });
        Run("pay class 6 + PayConfirm(true): the customer cancels, E2004", () =>
        {
            pay.Pay(PayReq(6, 2600));
            Paid(ev.Next(20), 2);
            Failed(ConfirmUntilSettled(30), "E2004");
        });
        Run("pay class 7 + PayConfirm(true): never approved, E2005", () =>
        {
            pay.Pay(PayReq(7, 2700));
            Paid(ev.Next(20), 2);
            Failed(ConfirmUntilSettled(120), "E2005");
        });
        Run("refund: part, over the rest (E3002), the rest", () =>
        {
            string order = PaidOrder(1000);
            pay.Refund(new WbCPSRefundRequest { OrderId = order, RefundAmount = 400, RefundReason = "returned goods" });
            var e = ev.Next(20);
            Check(e.Complete && e.Type == WbCPSRequestType.Refund, "CompleteEvent(Refund), got " + e);
            var r = (WbCPSRefundResponse)e.Response;
            Check(r.OrderId == order && r.RefundAmount == 400 && r.TransStatus == 9, "refund 400 PARTIALLY_REFUNDED: " + e);
            pay.Refund(new WbCPSRefundRequest { OrderId = order, RefundAmount = 700 });
            var x = Failed(ev.Next(20), "E3002");
            Check(x.Type == 9, "Type 9");
            pay.Refund(new WbCPSRefundRequest { OrderId = order, RefundAmount = 600 });
            e = ev.Next(20);
            Check(e.Complete && ((WbCPSRefundResponse)e.Response).TransStatus == 8, "refund of the rest REFUNDED: " + e);
        });
        Run("reverse: CompleteEvent REVERSED with the amount", () =>
        {
            string order = PaidOrder(1500);
            pay.Reverse(new WbCPSReverseRequest { OrderId = order });
            var e = ev.Next(20);
            Check(e.Complete && e.Type == WbCPSRequestType.Reverse, "CompleteEvent(Reverse), got " + e);
            var r = (WbCPSReverseResponse)e.Response;
            Check(r.OrderId == order && r.TransStatus == 7 && r.Amount == 1500, "REVERSED 1500: " + e);
            Check(r.TransTime.Length == 14, "TransTime");
        });
        Run("deposit LinePay: CompleteEvent DEPOSITED", () =>
        {
            pay.Deposit(new WbCPSDepositRequest { PayType = WbCPSPayType.LinePay, ValueType = WbCPSValueType.Basic, Amount = 3000, UserCode = "3612345678901234" });
            var e = ev.Next(20);
            Check(e.Complete && e.Type == WbCPSRequestType.Deposit, "CompleteEvent(Deposit), got " + e);
            var d = (WbCPSDepositResponse)e.Response;
            Check(d.TransStatus == 10 && d.Amount == 3000 && d.OrderId.Length == 32, "DEPOSITED 3000: " + e);
        });
        Run("deposit PayPay: refused by the gateway, E3006", () =>
        {
            pay.Deposit(new WbCPSDepositRequest { PayType = WbCPSPayType.PayPay, ValueType = WbCPSValueType.Basic, Amount = 3000, UserCode = "2812345678901234" });
            var e = ev.Next(20);
            Check(e.Type == WbCPSRequestType.Deposit, "type Deposit: " + e);
            Failed(e, "E3006");
        });
        Run("a request started from an event handler", () =>
        {
            Exception inHandler = null;
            ev.Hook = e =>
            {
                var p = e.Response as WbCPSPayResponse;
                if (!e.Complete || p == null || p.TransStatus != 1) return;
                ev.Hook = null;
                try { pay.Refund(new WbCPSRefundRequest { OrderId = p.OrderId, RefundAmount = p.Amount }); }
                catch (Exception x) { inHandler = x; }
            };
            pay.Pay(PayReq(0, 800));
            Paid(ev.Next(20), 1);
            var r = ev.Next(20);
            Check(inHandler == null, "Refund from the handler threw " + inHandler);
            Check(r.Complete && r.Type == WbCPSRequestType.Refund && ((WbCPSRefundResponse)r.Response).TransStatus == 8, "the refund's CompleteEvent, got " + r);
        });
        Run("kill -9 of the daemon while a pay waits: PayConfirm after the restart, the pay's final event once", () =>
        {
            pay.Pay(PayReq(1, 4000));
            var w = Paid(ev.Next(20), 2);
            KillDaemon();
            // Until the daemon is up and has recovered, PayConfirm is refused
            // (L0005 not running, L0004 recovering, L0008 not waiting yet).
            DateTime end = DateTime.UtcNow.AddSeconds(60);
            Ev e = null;
            while (e == null)
            {
                try { e = ConfirmUntilSettled(30); }
                catch (WbPayException x)
                {
                    if (DateTime.UtcNow > end) throw new Exception("PayConfirm still refused after the restart: " + x.Code + " " + x.Message);
                    Thread.Sleep(200);
                }
            }
            var p = Paid(e, 1);
            Check(p.OrderId == w.OrderId, "the same order");
            var more = ev.Drain(1);
            Check(more.Count == 0, "no further event, got " + (more.Count > 0 ? more[0].ToString() : ""));
        });
        Run("after the restart the same instance pays again", () => PaidOrder(100));
        Run("events on a SynchronizationContext, a request from its thread", () =>
        {
            var ctx = new OneThreadContext();
            pay.Close();
            pay = new WbCPSPay(new WbCPSPayOptions { EventContext = ctx });
            ev = new Events();
            ev.Attach(pay);
            Exception inHandler = null;
            ev.Hook = e =>
            {
                var p = e.Response as WbCPSPayResponse;
                if (!e.Complete || p == null) return;
                ev.Hook = null;
                try { pay.Reverse(new WbCPSReverseRequest { OrderId = p.OrderId }); }
                catch (Exception x) { inHandler = x; }
            };
            pay.Pay(PayReq(0, 900));
            var first = ev.Next(20);
            Paid(first, 1);
            var second = ev.Next(20);
            Check(inHandler == null, "Reverse from the handler threw " + inHandler);
            Check(second.Complete && second.Type == WbCPSRequestType.Reverse, "the reverse's CompleteEvent, got " + second);
            Check(first.Thread == ctx.Thread.ManagedThreadId && second.Thread == ctx.Thread.ManagedThreadId, "handlers ran on the context's thread");
            Check(ctx.Sends >= 2, "events raised through the context");
        });
    }

    /// <summary>Against the scripted daemon of clients/protocol_test.go.</summary>
    private static int Protocol()
    {
        pay = new WbCPSPay(new WbCPSPayOptions { RequestTimeout = TimeSpan.FromSeconds(2) });
        ev = new Events();
        ev.Attach(pay);
        Func<decimal, WbCPSPayRequest> req = a => new WbCPSPayRequest { PayType = WbCPSPayType.LinePay, Amount = a, UserCode = "3612345678901234" };
        Run("an answer lost once: the retry with the same key gets the transaction; a foreign event is not raised; a duplicate id is dropped", () =>
        {
            pay.Pay(req(1001));
            var r = Paid(ev.Next(10), 1);
            Check(r.OrderId == "O1".PadRight(32, '0'), "order O1, got " + r.OrderId);
        });
        Run("an event that arrives before the request's answer is raised after it", () =>
        {
            pay.Pay(req(1002));
            var r = Paid(ev.Next(10), 1);
            Check(r.OrderId == "O2".PadRight(32, '0'), "order O2, got " + r.OrderId);
            Check(r.TransTime == "20261201101500", "TransTime in JST from an RFC 3339 UTC time, got " + r.TransTime);
            Check(r.PayType == WbCPSPayType.LinePay && r.Amount == 1002 && !r.Recovered, "PayType, Amount, Recovered: " + ev);
        });
        Run("the daemon moves to another port: reconnect with Last-Event-ID, the recovered outcome once", () =>
        {
            pay.Pay(req(1003));
            var w = Paid(ev.Next(10), 2);
            Check(w.OrderId == "O3".PadRight(32, '0') && !w.Recovered, "waiting O3");
            var p = Paid(ev.Next(20), 1);
            Check(p.OrderId == "O3".PadRight(32, '0') && p.Recovered, "paid O3, recovered: " + p.OrderId + " " + p.Recovered);
        });
        Run("409 L0004 with action Retry is thrown (at the daemon's new address)", () =>
        {
            var e = Throws("L0004", () => pay.Pay(req(1004)));
            Check(e.RequestAction == WbCPSAction.Retry, "RequestAction Retry, got " + e.RequestAction);
        });
        Run("400 L0003 names the field", () =>
        {
            var e = Throws("L0003", () => pay.Pay(req(1006)));
            Check(e.Message.Contains("userCode"), "message names userCode: " + e.Message);
        });
        Run("a failed pay whose reverse was not achieved: two ErrorEvents in order", () =>
        {
            pay.Pay(req(1005));
            var a = Failed(ev.Next(10), "N0002");
            var b = Failed(ev.Next(10), "P0001");
            Check(a.Type == 2 && b.Type == 6 && b.RequestAction == WbCPSAction.CPSCall, a.Type + " " + b.Type + " " + b.RequestAction);
        });
        Run("refund: the response's fields", () =>
        {
            pay.Refund(new WbCPSRefundRequest { OrderId = "O1".PadRight(32, '0'), RefundAmount = 1 });
            var e = ev.Next(10);
            Check(e.Complete && e.Type == WbCPSRequestType.Refund, "CompleteEvent(Refund), got " + e);
            var r = (WbCPSRefundResponse)e.Response;
            Check(r.OrderId == "O1".PadRight(32, '0') && r.RefundAmount == 1 && r.TransStatus == 9 && r.TransTime == "20261201101500", "fields: " + e);
        });
        Run("PayConfirm: 409 L0008 is thrown", () => Throws("L0008", () => pay.PayConfirm(true)));
        Run("every answer lost: L0005 after RequestTimeout, then the outcome arrives by its Idempotency-Key", () =>
        {
            Throws("L0005", () => pay.Pay(req(1007)));
            var r = Paid(ev.Next(10), 1);
            Check(r.OrderId == "O7".PadRight(32, '0'), "order O7, got " + r.OrderId);
        });
        Run("503 L0005 is thrown at once (nothing was sent)", () => Throws("L0005", () => pay.Pay(req(1))));
        pay.Close();
        Run("handlers never overlap", () => Check(ev.Overlaps == 0, ev.Overlaps + " overlapping handler calls"));
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>The daemon's gateway never processes a reverse.</summary>
    private static void UnachievedReverse()
    {
        Run("pay class 2 whose reverse is not achieved: two ErrorEvents, the second P0001 CPSCall", () =>
        {
            pay.Pay(PayReq(2, 6000));
            var a = ev.Next(90);
            Check(!a.Complete && a.Error.Type == 2, "first an ErrorEvent of Type 2 (the network error), got " + a);
            var b = Failed(ev.Next(90), "P0001");
            Check(b.Type == 6 && b.RequestAction == WbCPSAction.CPSCall, "P0001 Type 6 CPSCall, got " + b.Type + " " + b.RequestAction);
        });
        Run("the escalated pay blocks nothing: the next pay is paid", () => PaidOrder(100));
    }

    private static void Polling()
    {
        Run("polling pay class 1: CompleteEvent twice without PayConfirm", () =>
        {
            pay.Pay(PayReq(1, 5000));
            var w = Paid(ev.Next(20), 2);
            var p = Paid(ev.Next(60), 1);
            Check(p.OrderId == w.OrderId, "the same order");
        });
        Run("polling pay class 6: E2004", () =>
        {
            pay.Pay(PayReq(6, 5100));
            Paid(ev.Next(20), 2);
            Failed(ev.Next(60), "E2004");
        });
        Run("polling pay class 7: E2005", () =>
        {
            pay.Pay(PayReq(7, 5200));
            Paid(ev.Next(20), 2);
            Failed(ev.Next(120), "E2005");
        });
        Run("polling: PayConfirm(false) stops the polling", () =>
        {
            pay.Pay(PayReq(7, 5300));
            Paid(ev.Next(20), 2);
            pay.PayConfirm(false);
            var e = ev.Next(30);
            Check(!e.Complete && e.Error.Code != "W0001", "a final ErrorEvent, got " + e);
        });
        Run("kill -9 of the daemon while a polled pay waits: the recovered outcome arrives once", () =>
        {
            pay.Pay(PayReq(1, 5400));
            var w = Paid(ev.Next(20), 2);
            KillDaemon();
            var e = ev.Next(90);
            var p = Paid(e, 1);
            Check(p.OrderId == w.OrderId, "the same order");
            var more = ev.Drain(2);
            Check(more.Count == 0, "exactly one final event, then " + (more.Count > 0 ? more[0].ToString() : ""));
        });
        Run("after the restart the same instance pays again", () => PaidOrder(100));
    }
}
