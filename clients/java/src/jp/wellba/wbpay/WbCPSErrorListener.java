package jp.wellba.wbpay;

/** Receives ErrorEvent. */
@FunctionalInterface
public interface WbCPSErrorListener {
    void onError(WbCPSRequestType type, WbCPSResponseError error);
}
