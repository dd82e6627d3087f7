package jp.wellba.wbpay;

/** 支払レスポンス (library spec 4.1). */
public class WbCPSPayResponse {
    public String orderId;
    /** yyyyMMddHHmmss, JST. */
    public String transTime;
    public long amount;
    /** 1 PAID, 2 WAITING, … */
    public int transStatus;
    public WbCPSPayType payType;
    /** True when recovery reached this outcome after a daemon restart. */
    public boolean recovered;

    @Override public String toString() {
        return "pay " + orderId + " status " + transStatus + " " + amount + " " + payType + (recovered ? " recovered" : "");
    }
}
