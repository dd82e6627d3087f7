package jp.wellba.wbpay;

/** Thrown when the instance cannot open or a request is refused before anything was sent. */
public class WbPayException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int type;
    private final String code;
    private final String subCode;
    private final WbCPSAction requestAction;

    public WbPayException(int type, String code, String subCode, String message, WbCPSAction action, Throwable cause) {
        super(message, cause);
        this.type = type;
        this.code = code == null ? "" : code;
        this.subCode = subCode == null ? "" : subCode;
        this.requestAction = action == null ? WbCPSAction.VendorCall : action;
    }

    /** 2 network, 5 library, 6 post-process, 9 PAYTREE. */
    public int getType() { return type; }
    /** Catalog code, e.g. L0003. */
    public String getCode() { return code; }
    public String getSubCode() { return subCode; }
    public WbCPSAction getRequestAction() { return requestAction; }

    static WbPayException lib(String code, String message, Throwable cause) {
        return new WbPayException(5, code, "", message, WbCPSAction.VendorCall, cause);
    }

    @Override public String toString() { return code + ": " + getMessage(); }
}
