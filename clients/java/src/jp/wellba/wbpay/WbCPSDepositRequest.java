package jp.wellba.wbpay;

/** 入金リクエスト (library spec 4.4). */
public class WbCPSDepositRequest {
    /** (必須) never AutoDetect; only LinePay supports deposits. */
    public WbCPSPayType payType = WbCPSPayType.LinePay;
    public WbCPSValueType valueType = WbCPSValueType.Basic;
    public long amount;
    public String receiptNo;
    public String userCode;
}
