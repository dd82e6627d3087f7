// The public types of WbPay.dll, as named in the library spec (v1.0)
// section 3 with the fields of section 4.
using System;

namespace WbPay
{
    /// <summary>支払チャンネル (library spec 3.2); the wire codes are those
    /// of the wire contract section 6.</summary>
    public enum WbCPSPayType
    {
        AutoDetect, LinePay, RegionalElectricMony, OrigamiPay, RakutenPay, PayPay, dPayment,
        CpayAlipay, CpayWechat, MerPay, AuPay, JCBAliPay, QUOCardPay, YuchoPay, KPlus,
        ResonaWallet, EPOSPay, JCoinPay, pring, atone, aftee, BankPay, OnepayAlipay,
        OnepayWechat, OnepayGNAlipay, OnepayGNAlipayHK, OnepayGNkakaopay, SmartCode
    }

    /// <summary>正札通貨 (library spec 3.2). The engine trades in JPY only.</summary>
    public enum WbCPSCurrencyType { CNY, GBP, HKD, USD, JPY, CAD, AUD, EUR, NZD, KRW }

    /// <summary>入金種類 (library spec 3.2); only Basic is served.</summary>
    public enum WbCPSValueType { Basic, Bonus, Coupon, Point }

    /// <summary>推奨エスカレーション: whom to call about an error. Retry is
    /// this edition's addition (nothing moved; the operator may run the
    /// request again).</summary>
    public enum WbCPSAction { VendorCall, CPSCall, Customer, Retry }

    /// <summary>リクエスト種類: the request an event answers.</summary>
    public enum WbCPSRequestType { Pay, Refund, Reverse, Confirm, Deposit }

    /// <summary>Handles a CompleteEvent; response is a WbCPSPayResponse,
    /// WbCPSRefundResponse, WbCPSReverseResponse or WbCPSDepositResponse.</summary>
    public delegate void WbCPSCompleteEventHandler(WbCPSRequestType type, Object response);

    /// <summary>Handles an ErrorEvent.</summary>
    public delegate void WbCPSErrorEventHandler(WbCPSRequestType type, WbCPSResponseError error);

    /// <summary>支払リクエスト (library spec 4.1 (3)).</summary>
    public class WbCPSPayRequest
    {
        /// <summary>(必須) channel; AutoDetect lets the gateway choose by UserCode.</summary>
        public WbCPSPayType PayType;
        /// <summary>(必須, ≤ 15 digits) amount; the fraction is truncated.</summary>
        public decimal Amount;
        /// <summary>(任意, ≤ 32) receipt number.</summary>
        public string ReceiptNo;
        /// <summary>(必須, ≤ 512) the customer's barcode or QR code.</summary>
        public string UserCode;
        /// <summary>(任意, ≤ 128) remark.</summary>
        public string Remark;
    }

    /// <summary>支払レスポンス (library spec 4.1 (4)).</summary>
    public class WbCPSPayResponse
    {
        /// <summary>The gateway's order id (32 characters).</summary>
        public string OrderId;
        /// <summary>取引日時, yyyyMMddHHmmss (JST).</summary>
        public string TransTime;
        /// <summary>The amount paid.</summary>
        public decimal Amount;
        /// <summary>取引ステータス: 1 PAID, 2 WAITING (the customer must approve), …</summary>
        public int TransStatus;
        /// <summary>The channel actually used.</summary>
        public WbCPSPayType PayType;
        /// <summary>This edition: true when recovery reached this outcome after a daemon restart.</summary>
        public bool Recovered;
    }

    /// <summary>返金リクエスト (library spec 4.2 (3)).</summary>
    public class WbCPSRefundRequest
    {
        /// <summary>(必須, ≤ 15 digits) amount to refund; the fraction is truncated.</summary>
        public decimal RefundAmount;
        /// <summary>(必須, ≤ 32) the pay's order id.</summary>
        public string OrderId;
        /// <summary>(任意, ≤ 256) reason.</summary>
        public string RefundReason;
        /// <summary>(任意, ≤ 256) remark.</summary>
        public string Remark;
    }

    /// <summary>返金レスポンス (library spec 4.2 (4)).</summary>
    public class WbCPSRefundResponse
    {
        /// <summary>The pay's order id.</summary>
        public string OrderId;
        /// <summary>8 REFUNDED or 9 PARTIALLY_REFUNDED.</summary>
        public int TransStatus;
        /// <summary>The amount refunded.</summary>
        public decimal RefundAmount;
        /// <summary>取引日時, yyyyMMddHHmmss (JST).</summary>
        public string TransTime;
        /// <summary>This edition: true when recovery reached this outcome after a daemon restart.</summary>
        public bool Recovered;
    }

    /// <summary>取消リクエスト (library spec 4.3 (3)).</summary>
    public class WbCPSReverseRequest
    {
        /// <summary>(必須, ≤ 32) the order id of the pay or deposit to cancel.</summary>
        public string OrderId;
    }

    /// <summary>取消レスポンス (library spec 4.3 (4)).</summary>
    public class WbCPSReverseResponse
    {
        /// <summary>The order id.</summary>
        public string OrderId;
        /// <summary>7 REVERSED.</summary>
        public int TransStatus;
        /// <summary>The amount returned; may be 0 when nothing had been taken.</summary>
        public decimal Amount;
        /// <summary>取引日時, yyyyMMddHHmmss (JST).</summary>
        public string TransTime;
        /// <summary>This edition: true when recovery reached this outcome after a daemon restart.</summary>
        public bool Recovered;
    }

    /// <summary>入金リクエスト (library spec 4.4 (3)).</summary>
    public class WbCPSDepositRequest
    {
        /// <summary>(必須) channel; never AutoDetect (only LinePay supports deposits).</summary>
        public WbCPSPayType PayType;
        /// <summary>(必須) value type; only Basic is served.</summary>
        public WbCPSValueType ValueType;
        /// <summary>(必須, ≤ 15 digits) amount; the fraction is truncated.</summary>
        public decimal Amount;
        /// <summary>(任意, ≤ 32) receipt number.</summary>
        public string ReceiptNo;
        /// <summary>(必須, ≤ 32) the card number.</summary>
        public string UserCode;
    }

    /// <summary>入金レスポンス (library spec 4.4 (4)).</summary>
    public class WbCPSDepositResponse
    {
        /// <summary>The gateway's order id.</summary>
        public string OrderId;
        /// <summary>取引日時, yyyyMMddHHmmss (JST).</summary>
        public string TransTime;
        /// <summary>The amount deposited.</summary>
        public decimal Amount;
        /// <summary>10 DEPOSITED.</summary>
        public int TransStatus;
        /// <summary>This edition: true when recovery reached this outcome after a daemon restart.</summary>
        public bool Recovered;
    }

    /// <summary>The error of an ErrorEvent (library spec 3.1).</summary>
    public class WbCPSResponseError
    {
        /// <summary>2 network, 5 library, 6 post-process, 9 PAYTREE.</summary>
        public int Type;
        /// <summary>Catalog code (wire contract section 8), e.g. E2002, N0002, P0001.</summary>
        public string Code;
        /// <summary>The processor's own code; may be empty.</summary>
        public string SubCode;
        /// <summary>What happened.</summary>
        public string Message;
        /// <summary>Whom to call.</summary>
        public WbCPSAction RequestAction;
        /// <summary>This edition: true when recovery reached this outcome after a daemon restart.</summary>
        public bool Recovered;
    }

    /// <summary>Thrown by the constructor and the request methods when a
    /// request is refused before anything was sent (library spec 3.1).</summary>
    [Serializable]
    public class WbPayException : Exception
    {
        private readonly int type;
        private readonly string code;
        private readonly string subCode;
        private readonly WbCPSAction action;

        /// <summary>Makes an exception of the catalog's Type, Code and SubCode.</summary>
        public WbPayException(int type, string code, string subCode, string message)
            : this(type, code, subCode, message, WbCPSAction.VendorCall, null) { }

        /// <summary>Makes an exception with its action and inner cause.</summary>
        public WbPayException(int type, string code, string subCode, string message, WbCPSAction action, Exception inner)
            : base(message, inner)
        {
            this.type = type;
            this.code = code ?? "";
            this.subCode = subCode ?? "";
            this.action = action;
        }

        /// <summary>2 network, 5 library, 6 post-process, 9 PAYTREE.</summary>
        public int Type { get { return type; } }
        /// <summary>Catalog code, e.g. L0003.</summary>
        public string Code { get { return code; } }
        /// <summary>The processor's own code; may be empty.</summary>
        public string SubCode { get { return subCode; } }
        /// <summary>This edition: whom to call (Retry when nothing moved and the request may be run again).</summary>
        public WbCPSAction RequestAction { get { return action; } }

        /// <summary>"CODE: message".</summary>
        public override string ToString() { return code + ": " + Message; }
    }
}
