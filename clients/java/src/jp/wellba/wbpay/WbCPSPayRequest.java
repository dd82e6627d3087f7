package jp.wellba.wbpay;

/** 支払リクエスト (library spec 4.1). */
public class WbCPSPayRequest {
    /** (必須) channel; AutoDetect lets the gateway choose by userCode. */
    public WbCPSPayType payType = WbCPSPayType.AutoDetect;
    /** (必須, ≤ 15 digits) amount in yen. */
    public long amount;
    /** (任意, ≤ 32) receipt number. */
    public String receiptNo;
    /** (必須, ≤ 512) the customer's barcode or QR code. */
    public String userCode;
    /** (任意, ≤ 128) remark. */
    public String remark;
}
