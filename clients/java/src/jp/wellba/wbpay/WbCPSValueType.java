package jp.wellba.wbpay;

/** 入金種類 (library spec 3.2); only Basic is served. */
public enum WbCPSValueType { Basic, Bonus, Coupon, Point }
