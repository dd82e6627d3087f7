package jp.wellba.wbpay;

/** 支払チャンネル (library spec 3.2); wire codes of the wire contract section 6. */
public enum WbCPSPayType {
    AutoDetect("AUTO"), LinePay("LINE"), RegionalElectricMony("REGIONAL"), OrigamiPay("ORIGAMI"),
    RakutenPay("RAKUTEN"), PayPay("PAYPAY"), dPayment("DPAY"), CpayAlipay("CPAY_ALIPAY"),
    CpayWechat("CPAY_WECHAT"), MerPay("MERPAY"), AuPay("AUPAY"), JCBAliPay("JCB_ALIPAY"),
    QUOCardPay("QUO"), YuchoPay("YUCHO"), KPlus("KPLUS"), ResonaWallet("RESONA"), EPOSPay("EPOS"),
    JCoinPay("JCOIN"), pring("PRING"), atone("ATONE"), aftee("AFTEE"), BankPay("BANKPAY"),
    OnepayAlipay("ONEPAY_ALIPAY"), OnepayWechat("ONEPAY_WECHAT"), OnepayGNAlipay("ONEPAY_GN_ALIPAY"),
    OnepayGNAlipayHK("ONEPAY_GN_ALIPAYHK"), OnepayGNkakaopay("ONEPAY_GN_KAKAOPAY"), SmartCode("SMARTCODE");

    private final String code;

    WbCPSPayType(String code) { this.code = code; }

    /** The local API's name: the wire code, or AUTO for AutoDetect. */
    public String code() { return code; }

    /** The channel of a wire code or name; AutoDetect when empty or unknown. */
    public static WbCPSPayType fromCode(String s) {
        if (s == null || s.isEmpty()) return AutoDetect;
        for (WbCPSPayType t : values()) {
            if (t.code.equalsIgnoreCase(s) || t.name().equalsIgnoreCase(s)) return t;
        }
        return AutoDetect;
    }
}
