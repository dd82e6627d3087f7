// Translation between the public types and the local API's JSON: channel
// codes (wire contract section 6), transStatus names (section 5), actions
// (section 8), times.
using System;
using System.Collections.Generic;
using System.Globalization;

namespace WbPay
{
    internal static class Codes
    {
        // Index = (int)WbCPSPayType; "AUTO" is the local API's name for AutoDetect.
        private static readonly string[] channelCodes = {
            "AUTO", "LINE", "REGIONAL", "ORIGAMI", "RAKUTEN", "PAYPAY", "DPAY",
            "CPAY_ALIPAY", "CPAY_WECHAT", "MERPAY", "AUPAY", "JCB_ALIPAY", "QUO", "YUCHO", "KPLUS",
            "RESONA", "EPOS", "JCOIN", "PRING", "ATONE", "AFTEE", "BANKPAY", "ONEPAY_ALIPAY",
            "ONEPAY_WECHAT", "ONEPAY_GN_ALIPAY", "ONEPAY_GN_ALIPAYHK", "ONEPAY_GN_KAKAOPAY", "SMARTCODE"
        };

        private static readonly string[] statusNames = {
            null, "PAID", "WAITING", "PROCESSING", "FAILED", "CANCELLED", "EXPIRED",
            "REVERSED", "REFUNDED", "PARTIALLY_REFUNDED", "DEPOSITED"
        };

        /// <summary>The wire code of t; L0003 for a value outside the enum
        /// (or AutoDetect where it is not allowed).</summary>
        public static string Channel(WbCPSPayType t, string field, bool autoOK)
        {
            int i = (int)t;
            if (i < 0 || i >= channelCodes.Length) throw Errors.Field(field, "payType " + i + " is not a WbCPSPayType");
            if (i == 0 && !autoOK) throw Errors.Field(field, "AutoDetect cannot be used here");
            return channelCodes[i];
        }

        /// <summary>The channel of a wire code; AutoDetect when empty or unknown.</summary>
        public static WbCPSPayType ChannelOf(string code)
        {
            if (string.IsNullOrEmpty(code)) return WbCPSPayType.AutoDetect;
            for (int i = 0; i < channelCodes.Length; i++)
                if (string.Equals(channelCodes[i], code, StringComparison.OrdinalIgnoreCase)) return (WbCPSPayType)i;
            WbCPSPayType t;
            if (Enum.TryParse(code, true, out t) && Enum.IsDefined(typeof(WbCPSPayType), t)) return t;
            return WbCPSPayType.AutoDetect;
        }

        /// <summary>The amount as a JSON integer, the fraction truncated
        /// (library spec 4.1); L0003 when it does not fit 15 digits.</summary>
        public static long Amount(decimal v, string field)
        {
            decimal t = decimal.Truncate(v);
            if (t > 999999999999999m || t < -999999999999999m) throw Errors.Field(field, "more than 15 digits");
            return (long)t;
        }

        public static string ValueType(WbCPSValueType v)
        {
            switch (v)
            {
                case WbCPSValueType.Basic: return "BASIC";
                case WbCPSValueType.Bonus: return "BONUS";
                case WbCPSValueType.Coupon: return "COUPON";
                case WbCPSValueType.Point: return "POINT";
            }
            throw Errors.Field("valueType", ((int)v) + " is not a WbCPSValueType");
        }

        public static WbCPSAction Action(string s)
        {
            WbCPSAction a;
            if (!string.IsNullOrEmpty(s) && Enum.TryParse(s, true, out a) && Enum.IsDefined(typeof(WbCPSAction), a)) return a;
            return WbCPSAction.VendorCall;
        }

        /// <summary>The request type of an event: its requestType ("Pay",
        /// "Confirm", …), else the transaction's operation.</summary>
        public static WbCPSRequestType RequestType(string requestType, string operation)
        {
            foreach (var s in new[] { requestType, operation })
            {
                if (string.IsNullOrEmpty(s)) continue;
                string n = s.Replace("-", "").Replace("_", "");
                if (n.Equals("payconfirm", StringComparison.OrdinalIgnoreCase)) return WbCPSRequestType.Confirm;
                WbCPSRequestType t;
                if (Enum.TryParse(n, true, out t) && Enum.IsDefined(typeof(WbCPSRequestType), t)) return t;
            }
            return WbCPSRequestType.Pay;
        }

        /// <summary>transStatus as a number: the wire name (PAID …) or its digits.</summary>
        public static int Status(object txn)
        {
            string s = Json.Str(txn, "transStatus");
            if (string.IsNullOrEmpty(s)) return 0;
            for (int i = 1; i < statusNames.Length; i++)
                if (string.Equals(statusNames[i], s, StringComparison.OrdinalIgnoreCase)) return i;
            int n;
            return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n) ? n : 0;
        }

        /// <summary>The library spec's yyyyMMddHHmmss (JST) from the API's
        /// RFC 3339 time; a value already in that form is kept.</summary>
        public static string TransTime(string s)
        {
            if (string.IsNullOrEmpty(s)) return "";
            if (s.Length == 14)
            {
                bool digits = true;
                foreach (char c in s) digits &= c >= '0' && c <= '9';
                if (digits) return s;
            }
            DateTimeOffset t;
            if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out t))
                return t.ToOffset(TimeSpan.FromHours(9)).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            return s;
        }

        /// <summary>The response object of a CompleteEvent of type from the
        /// event's transaction.</summary>
        public static object Response(WbCPSRequestType type, Dictionary<string, object> txn, bool recovered)
        {
            string orderId = Json.Str(txn, "orderId") ?? "";
            string time = TransTime(Json.Str(txn, "transTime"));
            int status = Status(txn);
            switch (type)
            {
                case WbCPSRequestType.Refund:
                    return new WbCPSRefundResponse { OrderId = orderId, TransStatus = status, RefundAmount = Json.Num(txn, "refundAmount"), TransTime = time, Recovered = recovered };
                case WbCPSRequestType.Reverse:
                    return new WbCPSReverseResponse { OrderId = orderId, TransStatus = status, Amount = Json.Num(txn, "amount"), TransTime = time, Recovered = recovered };
                case WbCPSRequestType.Deposit:
                    return new WbCPSDepositResponse { OrderId = orderId, TransTime = time, Amount = Json.Num(txn, "amount"), TransStatus = status, Recovered = recovered };
                default:
                    return new WbCPSPayResponse { OrderId = orderId, TransTime = time, Amount = Json.Num(txn, "amount"), TransStatus = status, PayType = ChannelOf(Json.Str(txn, "payType")), Recovered = recovered };
            }
        }

        public static WbCPSResponseError ResponseError(Dictionary<string, object> e, bool recovered)
        {
            return new WbCPSResponseError
            {
                Type = (int)Json.Num(e, "type"),
                Code = Json.Str(e, "code") ?? "",
                SubCode = Json.Str(e, "subCode") ?? "",
                Message = Json.Str(e, "message") ?? "",
                RequestAction = Action(Json.Str(e, "action")),
                Recovered = recovered,
            };
        }
    }
}
