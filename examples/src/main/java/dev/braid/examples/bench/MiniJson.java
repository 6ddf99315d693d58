package dev.braid.examples.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small recursive-descent JSON reader (objects, arrays, strings, numbers, literals) for JMH results. */
public final class MiniJson
{
    private final String s;
    private int i;

    private MiniJson(final String s)
    {
        this.s = s;
    }

    /** Maps, lists, strings, doubles, booleans and null. Throws IllegalArgumentException naming the offset. */
    public static Object parse(final String text)
    {
        final MiniJson p = new MiniJson(text);
        final Object value = p.value();
        p.ws();
        if (p.i != p.s.length())
        {
            throw p.error("trailing characters");
        }
        return value;
    }

    private Object value()
    {
        ws();
        if (i >= s.length())
        {
            throw error("unexpected end");
        }
        final char c = s.charAt(i);
        switch (c)
        {
            case '{': return object();
            case '[': return array();
            case '"': return string();
            case 't': return literal("true", Boolean.TRUE);
            case 'f': return literal("false", Boolean.FALSE);
            case 'n': return literal("null", null);
            default: return number();
        }
    }

    private Map<String, Object> object()
    {
        final Map<String, Object> map = new LinkedHashMap<>();
        i++;
        ws();
        if (peek() == '}')
        {
            i++;
            return map;
        }
        while (true)
        {
            ws();
            final String key = string();
            ws();
            expect(':');
            map.put(key, value());
            ws();
            if (peek() == ',')
            {
                i++;
                continue;
            }
            expect('}');
            return map;
        }
    }

    private List<Object> array()
    {
        final List<Object> list = new ArrayList<>();
        i++;
        ws();
        if (peek() == ']')
        {
            i++;
            return list;
        }
        while (true)
        {
            list.add(value());
            ws();
            if (peek() == ',')
            {
                i++;
                continue;
            }
            expect(']');
            return list;
        }
    }

    private String string()
    {
        expect('"');
        final StringBuilder sb = new StringBuilder();
        while (i < s.length())
        {
            final char c = s.charAt(i++);
            if (c == '"')
            {
                return sb.toString();
            }
            if (c == '\\' && i < s.length())
            {
                final char e = s.charAt(i++);
                switch (e)
                {
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'r': sb.append('\r'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'u':
                        if (i + 4 > s.length())
                        {
                            throw error("bad escape");
                        }
                        sb.append((char)Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: sb.append(e);
                }
            }
            else
            {
                sb.append(c);
            }
        }
        throw error("unterminated string");
    }

    private Object number()
    {
        final int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0)
        {
            i++;
        }
        final String text = s.substring(start, i);
        if (text.isEmpty())
        {
            throw error("unexpected character '" + s.charAt(start) + "'");
        }
        try
        {
            return Double.parseDouble(text);
        }
        catch (final NumberFormatException ex)
        {
            // JMH writes "NaN" as a string; anything else here is broken input.
            throw error("bad number " + text);
        }
    }

    private Object literal(final String word, final Object value)
    {
        if (!s.startsWith(word, i))
        {
            throw error("expected " + word);
        }
        i += word.length();
        return value;
    }

    private void ws()
    {
        while (i < s.length() && Character.isWhitespace(s.charAt(i)))
        {
            i++;
        }
    }

    private char peek()
    {
        return i < s.length() ? s.charAt(i) : 0;
    }

    private void expect(final char c)
    {
        if (peek() != c)
        {
            throw error("expected '" + c + "'");
        }
        i++;
    }

    private IllegalArgumentException error(final String what)
    {
        return new IllegalArgumentException("JSON: " + what + " at offset " + i);
    }
}
