package jp.wellba.wbpay;

/** 取消レスポンス (library spec 4.3). */
public class WbCPSReverseResponse {
    public String orderId;
    /** 7 REVERSED. */
    public int transStatus;
    public long amount;
    public String transTime;
    public boolean recovered;

    @Override public String toString() { return "reverse " + orderId + " status " + transStatus + " " + amount; }
}
