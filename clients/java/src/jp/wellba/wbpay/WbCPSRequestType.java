package jp.wellba.wbpay;

/** The request an event answers. */
public enum WbCPSRequestType {
    Pay, Refund, Reverse, Confirm, Deposit;

    static WbCPSRequestType parse(String requestType, String operation) {
        for (String s : new String[] {requestType, operation}) {
            if (s == null || s.isEmpty()) continue;
            String n = s.replace("-", "").replace("_", "");
            if (n.equalsIgnoreCase("payconfirm")) return Confirm;
            for (WbCPSRequestType t : values()) if (t.name().equalsIgnoreCase(n)) return t;
        }
        return Pay;
    }
}
