package jp.wellba.wbpay;

/** 取消リクエスト (library spec 4.3). */
public class WbCPSReverseRequest {
    public String orderId;
}
