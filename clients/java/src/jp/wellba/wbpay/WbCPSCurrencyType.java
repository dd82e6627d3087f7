package jp.wellba.wbpay;

/** 正札通貨 (library spec 3.2); the engine trades in JPY only. */
public enum WbCPSCurrencyType { CNY, GBP, HKD, USD, JPY, CAD, AUD, EUR, NZD, KRW }
