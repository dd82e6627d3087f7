package jp.wellba.wbpay;

/** Whom to call about an error; Retry is this edition's addition (nothing moved). */
public enum WbCPSAction {
    VendorCall, CPSCall, Customer, Retry;

    static WbCPSAction parse(String s) {
        if (s != null) {
            for (WbCPSAction a : values()) if (a.name().equalsIgnoreCase(s)) return a;
        }
        return VendorCall;
    }
}
