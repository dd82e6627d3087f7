package jp.wellba.wbpay;

/** The error of an ErrorEvent (library spec 3.1). */
public class WbCPSResponseError {
    /** 2 network, 5 library, 6 post-process, 9 PAYTREE. */
    public int type;
    /** Catalog code (wire contract section 8). */
    public String code = "";
    public String subCode = "";
    public String message = "";
    public WbCPSAction requestAction = WbCPSAction.VendorCall;
    public boolean recovered;

    @Override public String toString() { return code + " type " + type + " " + requestAction + ": " + message + (recovered ? " (recovered)" : ""); }
}
