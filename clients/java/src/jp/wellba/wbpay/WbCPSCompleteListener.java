package jp.wellba.wbpay;

/** Receives CompleteEvent; response is a WbCPSPayResponse, WbCPSRefundResponse,
 * WbCPSReverseResponse or WbCPSDepositResponse. */
@FunctionalInterface
public interface WbCPSCompleteListener {
    void onComplete(WbCPSRequestType type, Object response);
}
