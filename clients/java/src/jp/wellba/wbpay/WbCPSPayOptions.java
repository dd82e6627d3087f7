package jp.wellba.wbpay;

import java.time.Duration;
import java.util.concurrent.Executor;

/** Options of a WbCPSPay instance. */
public class WbCPSPayOptions {
    /** The home; null: WBPAY_HOME, else C:\\Wellba\\WbPay on Windows. */
    public String home;
    /** When set, listeners run on this executor (e.g. a UI thread's), one event at a time. */
    public Executor eventExecutor;
    /** How long a request method waits for the daemon's acceptance, retries included. */
    public Duration requestTimeout = Duration.ofSeconds(15);
}
