package jp.wellba.wbpay;

/** 返金レスポンス (library spec 4.2). */
public class WbCPSRefundResponse {
    public String orderId;
    /** 8 REFUNDED, 9 PARTIALLY_REFUNDED. */
    public int transStatus;
    public long refundAmount;
    public String transTime;
    public boolean recovered;

    @Override public String toString() { return "refund " + orderId + " status " + transStatus + " " + refundAmount; }
}
