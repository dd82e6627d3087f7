package jp.wellba.wbpay;

/** 返金リクエスト (library spec 4.2). */
public class WbCPSRefundRequest {
    public long refundAmount;
    public String orderId;
    public String refundReason;
    public String remark;
}
