// A small JSON reader and writer: the daemon's messages are flat objects of
// strings, integers, booleans and nested objects, so the assembly needs
// nothing beyond mscorlib and System for them.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace WbPay
{
    /// <summary>Reads and writes the JSON of the local API. Objects become
    /// Dictionary&lt;string, object&gt;, arrays List&lt;object&gt;, numbers
    /// decimal, and null null.</summary>
    internal static class Json
    {
        /// <summary>Parses text; throws FormatException naming the offset at fault.</summary>
        public static object Parse(string text)
        {
            if (text == null) throw new FormatException("json: no text");
            int i = 0;
            object v = ReadValue(text, ref i, 0);
            SkipSpace(text, ref i);
            if (i != text.Length) throw new FormatException("json: extra text at offset " + i);
            return v;
        }

        private static void SkipSpace(string s, ref int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
        }

        private static object ReadValue(string s, ref int i, int depth)
        {
            if (depth > 64) throw new FormatException("json: nested too deep at offset " + i);
            SkipSpace(s, ref i);
            if (i >= s.Length) throw new FormatException("json: unexpected end");
            char c = s[i];
            switch (c)
            {
                case '{':
                    {
                        var d = new Dictionary<string, object>(StringComparer.Ordinal);
                        i++;
                        SkipSpace(s, ref i);
                        if (i < s.Length && s[i] == '}') { i++; return d; }
                        while (true)
                        {
                            SkipSpace(s, ref i);
                            if (i >= s.Length || s[i] != '"') throw new FormatException("json: want a key at offset " + i);
                            string k = ReadString(s, ref i);
                            SkipSpace(s, ref i);
                            if (i >= s.Length || s[i] != ':') throw new FormatException("json: want ':' at offset " + i);
                            i++;
                            d[k] = ReadValue(s, ref i, depth + 1);
                            SkipSpace(s, ref i);
                            if (i < s.Length && s[i] == ',') { i++; continue; }
                            if (i < s.Length && s[i] == '}') { i++; return d; }
                            throw new FormatException("json: want ',' or '}' at offset " + i);
                        }
                    }
                case '[':
                    {
                        var l = new List<object>();
                        i++;
                        SkipSpace(s, ref i);
                        if (i < s.Length && s[i] == ']') { i++; return l; }
                        while (true)
                        {
                            l.Add(ReadValue(s, ref i, depth + 1));
                            SkipSpace(s, ref i);
                            if (i < s.Length && s[i] == ',') { i++; continue; }
                            if (i < s.Length && s[i] == ']') { i++; return l; }
                            throw new FormatException("json: want ',' or ']' at offset " + i);
                        }
                    }
                case '"':
                    return ReadString(s, ref i);
                case 't': Expect(s, ref i, "true"); return true;
                case 'f': Expect(s, ref i, "false"); return false;
                case 'n': Expect(s, ref i, "null"); return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber(s, ref i);
                    throw new FormatException("json: unexpected '" + c + "' at offset " + i);
            }
        }

        private static void Expect(string s, ref int i, string word)
        {
            if (string.CompareOrdinal(s, i, word, 0, word.Length) != 0)
                throw new FormatException("json: want " + word + " at offset " + i);
            i += word.Length;
        }

        private static object ReadNumber(string s, ref int i)
        {
            int start = i;
            if (s[i] == '-') i++;
            while (i < s.Length && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-')) i++;
            string n = s.Substring(start, i - start);
            decimal d;
            if (decimal.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return d;
            double f;
            if (double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out f) && Math.Abs(f) < 7.9e28) return (decimal)f;
            throw new FormatException("json: bad number at offset " + start);
        }

        private static string ReadString(string s, ref int i)
        {
            i++; // opening quote
            var b = new StringBuilder();
            while (true)
            {
                if (i >= s.Length) throw new FormatException("json: unterminated string");
                char c = s[i++];
                if (c == '"') return b.ToString();
                if (c != '\\') { b.Append(c); continue; }
                if (i >= s.Length) throw new FormatException("json: unterminated escape");
                char e = s[i++];
                switch (e)
                {
                    case '"': b.Append('"'); break;
                    case '\\': b.Append('\\'); break;
                    case '/': b.Append('/'); break;
                    case 'b': b.Append('\b'); break;
                    case 'f': b.Append('\f'); break;
                    case 'n': b.Append('\n'); break;
                    case 'r': b.Append('\r'); break;
                    case 't': b.Append('\t'); break;
                    case 'u':
                        if (i + 4 > s.Length) throw new FormatException("json: short \\u escape at offset " + i);
                        int code;
                        if (!int.TryParse(s.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out code))
                            throw new FormatException("json: bad \\u escape at offset " + i);
                        b.Append((char)code);
                        i += 4;
                        break;
                    default: throw new FormatException("json: bad escape at offset " + (i - 1));
                }
            }
        }

        /// <summary>Writes v (dictionary, list, string, bool, integer, decimal or null).</summary>
        public static string Write(object v)
        {
            var b = new StringBuilder();
            WriteValue(b, v);
            return b.ToString();
        }

        private static void WriteValue(StringBuilder b, object v)
        {
            if (v == null) { b.Append("null"); return; }
            var s = v as string;
            if (s != null) { WriteString(b, s); return; }
            if (v is bool) { b.Append((bool)v ? "true" : "false"); return; }
            if (v is int || v is long || v is decimal)
            {
                b.Append(Convert.ToString(v, CultureInfo.InvariantCulture));
                return;
            }
            var d = v as IDictionary<string, object>;
            if (d != null)
            {
                b.Append('{');
                bool first = true;
                foreach (var kv in d)
                {
                    if (!first) b.Append(',');
                    first = false;
                    WriteString(b, kv.Key);
                    b.Append(':');
                    WriteValue(b, kv.Value);
                }
                b.Append('}');
                return;
            }
            var l = v as System.Collections.IEnumerable;
            if (l != null)
            {
                b.Append('[');
                bool first = true;
                foreach (var x in l)
                {
                    if (!first) b.Append(',');
                    first = false;
                    WriteValue(b, x);
                }
                b.Append(']');
                return;
            }
            throw new ArgumentException("json: cannot write a " + v.GetType().Name);
        }

        private static void WriteString(StringBuilder b, string s)
        {
            b.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': b.Append("\\\""); break;
                    case '\\': b.Append("\\\\"); break;
                    case '\n': b.Append("\\n"); break;
                    case '\r': b.Append("\\r"); break;
                    case '\t': b.Append("\\t"); break;
                    default:
                        if (c < 0x20) b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else b.Append(c);
                        break;
                }
            }
            b.Append('"');
        }

        // Accessors that tolerate missing keys and wrong kinds.

        public static Dictionary<string, object> Obj(object o, string key)
        {
            var d = o as Dictionary<string, object>;
            object v;
            if (d == null || !d.TryGetValue(key, out v)) return null;
            return v as Dictionary<string, object>;
        }

        public static string Str(object o, string key)
        {
            var d = o as Dictionary<string, object>;
            object v;
            if (d == null || !d.TryGetValue(key, out v) || v == null) return null;
            if (v is string) return (string)v;
            if (v is decimal) return ((decimal)v).ToString(CultureInfo.InvariantCulture);
            if (v is bool) return (bool)v ? "true" : "false";
            return null;
        }

        public static decimal Num(object o, string key)
        {
            var d = o as Dictionary<string, object>;
            object v;
            if (d == null || !d.TryGetValue(key, out v) || v == null) return 0;
            if (v is decimal) return (decimal)v;
            decimal n;
            var s = v as string;
            if (s != null && decimal.TryParse(s, NumberStyles.Number, CultureInfo.InvariantCulture, out n)) return n;
            return 0;
        }

        public static bool Bool(object o, string key)
        {
            var d = o as Dictionary<string, object>;
            object v;
            if (d == null || !d.TryGetValue(key, out v) || v == null) return false;
            return v is bool && (bool)v;
        }
    }
}
