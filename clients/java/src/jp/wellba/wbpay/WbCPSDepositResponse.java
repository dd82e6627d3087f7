package jp.wellba.wbpay;

/** 入金レスポンス (library spec 4.4). */
public class WbCPSDepositResponse {
    public String orderId;
    public String transTime;
    public long amount;
    /** 10 DEPOSITED. */
    public int transStatus;
    public boolean recovered;

    @Override public String toString() { return "deposit " + orderId + " status " + transStatus + " " + amount; }
}
