package jp.wellba.wbpay;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small JSON reader and writer for the local API's messages: objects are
 * Map, arrays List, numbers BigDecimal. */
final class Json {
    private final String s;
    private int i;

    private Json(String s) { this.s = s; }

    /** Parses text; throws IllegalArgumentException naming the offset at fault. */
    static Object parse(String text) {
        if (text == null) throw new IllegalArgumentException("json: no text");
        Json p = new Json(text);
        Object v = p.value(0);
        p.space();
        if (p.i != text.length()) throw new IllegalArgumentException("json: extra text at offset " + p.i);
        return v;
    }

    private void space() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
    }

    private IllegalArgumentException bad(String what) {
        return new IllegalArgumentException("json: " + what + " at offset " + i);
    }

    private Object value(int depth) {
        if (depth > 64) throw bad("nested too deep");
        space();
        if (i >= s.length()) throw bad("unexpected end");
        char c = s.charAt(i);
        switch (c) {
            case '{': {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                space();
                if (i < s.length() && s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    space();
                    if (i >= s.length() || s.charAt(i) != '"') throw bad("want a key");
                    String k = string();
                    space();
                    if (i >= s.length() || s.charAt(i) != ':') throw bad("want ':'");
                    i++;
                    m.put(k, value(depth + 1));
                    space();
                    if (i < s.length() && s.charAt(i) == ',') { i++; continue; }
                    if (i < s.length() && s.charAt(i) == '}') { i++; return m; }
                    throw bad("want ',' or '}'");
                }
            }
            case '[': {
                List<Object> l = new ArrayList<>();
                i++;
                space();
                if (i < s.length() && s.charAt(i) == ']') { i++; return l; }
                while (true) {
                    l.add(value(depth + 1));
                    space();
                    if (i < s.length() && s.charAt(i) == ',') { i++; continue; }
                    if (i < s.length() && s.charAt(i) == ']') { i++; return l; }
                    throw bad("want ',' or ']'");
                }
            }
            case '"':
                return string();
            case 't': word("true"); return Boolean.TRUE;
            case 'f': word("false"); return Boolean.FALSE;
            case 'n': word("null"); return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    int start = i;
                    i++;
                    while (i < s.length() && "0123456789.eE+-".indexOf(s.charAt(i)) >= 0) i++;
                    try {
                        return new BigDecimal(s.substring(start, i));
                    } catch (NumberFormatException e) {
                        i = start;
                        throw bad("bad number");
                    }
                }
                throw bad("unexpected '" + c + "'");
        }
    }

    private void word(String w) {
        if (!s.startsWith(w, i)) throw bad("want " + w);
        i += w.length();
    }

    private String string() {
        i++;
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) throw bad("unterminated string");
            char c = s.charAt(i++);
            if (c == '"') return b.toString();
            if (c != '\\') { b.append(c); continue; }
            if (i >= s.length()) throw bad("unterminated escape");
            char e = s.charAt(i++);
            switch (e) {
                case '"': b.append('"'); break;
                case '\\': b.append('\\'); break;
                case '/': b.append('/'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'u':
                    if (i + 4 > s.length()) throw bad("short \\u escape");
                    try {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException x) {
                        throw bad("bad \\u escape");
                    }
                    i += 4;
                    break;
                default: throw bad("bad escape");
            }
        }
    }

    /** Writes a Map, List, String, Boolean, Number or null. */
    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String) {
            quote(b, (String) v);
        } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer || v instanceof BigDecimal) {
            b.append(v instanceof BigDecimal ? ((BigDecimal) v).toPlainString() : v.toString());
        } else if (v instanceof Map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) b.append(',');
                first = false;
                quote(b, String.valueOf(e.getKey()));
                b.append(':');
                write(b, e.getValue());
            }
            b.append('}');
        } else if (v instanceof List) {
            b.append('[');
            boolean first = true;
            for (Object x : (List<?>) v) {
                if (!first) b.append(',');
                first = false;
                write(b, x);
            }
            b.append(']');
        } else {
            throw new IllegalArgumentException("json: cannot write a " + v.getClass().getSimpleName());
        }
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        b.append('"');
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o, String key) {
        if (!(o instanceof Map)) return null;
        Object v = ((Map<String, Object>) o).get(key);
        return v instanceof Map ? (Map<String, Object>) v : null;
    }

    static String str(Object o, String key) {
        if (!(o instanceof Map)) return null;
        Object v = ((Map<?, ?>) o).get(key);
        if (v instanceof String) return (String) v;
        if (v instanceof BigDecimal) return ((BigDecimal) v).toPlainString();
        if (v instanceof Boolean) return v.toString();
        return null;
    }

    static long num(Object o, String key) {
        if (!(o instanceof Map)) return 0;
        Object v = ((Map<?, ?>) o).get(key);
        try {
            if (v instanceof BigDecimal) return ((BigDecimal) v).longValue();
            if (v instanceof String) return new BigDecimal((String) v).longValue();
        } catch (NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    static boolean bool(Object o, String key) {
        if (!(o instanceof Map)) return false;
        return Boolean.TRUE.equals(((Map<?, ?>) o).get(key));
    }
}
