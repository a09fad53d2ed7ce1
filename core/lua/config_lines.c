/* config_lines.c - locating `key =` in config source text for messages. */
#include "lua/config_lines.h"

#include <limits.h>
#include <string.h>

/* Search modes of find_key besides an exact brace depth. */
#define FIND_SHALLOWEST (-1)
#define FIND_FIRST (-2)

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Size of a long bracket "[==[" opening at i (its level in *level), or 0. */
static size_t long_open(const char *s, size_t len, size_t i, size_t *level)
{
    if (i >= len || s[i] != '[')
        return 0;
    size_t j = i + 1;
    while (j < len && s[j] == '=')
        j++;
    if (j >= len || s[j] != '[')
        return 0;
    *level = j - i - 1;
    return j - i + 1;
}

/* Index just after the "]==]" of the given level at or after i (len if none). */
static size_t long_close(const char *s, size_t len, size_t i, size_t level)
{
    for (; i < len; i++) {
        if (s[i] != ']')
            continue;
        size_t j = i + 1;
        while (j < len && s[j] == '=')
            j++;
        if (j < len && s[j] == ']' && j - i - 1 == level)
            return j + 1;
    }
    return len;
}

/* If a comment or string starts at i, the index after it; otherwise i. */
static size_t skip_noncode(const char *s, size_t len, size_t i)
{
    size_t level, open;
    if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
        i += 2;
        if ((open = long_open(s, len, i, &level)))
            return long_close(s, len, i + open, level);
        while (i < len && s[i] != '\n')
            i++;
        return i;
    }
    if (s[i] == '"' || s[i] == '\'') {
        char quote = s[i++];
        while (i < len && s[i] != quote && s[i] != '\n') {
            if (s[i] == '\\' && i + 1 < len)
                i++; /* an escaped quote or line break stays inside */
            i++;
        }
        return i < len ? i + 1 : len;
    }
    if ((open = long_open(s, len, i, &level)))
        return long_close(s, len, i + open, level);
    return i;
}

/* Skip blanks and comments from i. */
static size_t skip_blank(const char *s, size_t len, size_t i)
{
    while (i < len) {
        if (is_space(s[i])) {
            i++;
        } else if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
            i = skip_noncode(s, len, i);
        } else {
            break;
        }
    }
    return i;
}

/* If `key =` (not `==`) starts at i, the index after the '=', else 0. */
static size_t key_assign_at(const char *s, size_t len, size_t i, const char *key, size_t klen)
{
    if (i + klen > len || memcmp(s + i, key, klen) != 0)
        return 0;
    if (i + klen < len && is_ident_char(s[i + klen]))
        return 0;
    size_t j = skip_blank(s, len, i + klen);
    if (j < len && s[j] == '=' && (j + 1 >= len || s[j + 1] != '='))
        return j + 1;
    return 0;
}

/* Start of `key =` in code within [from, to): at brace depth want (counted
 * from `from`), or the shallowest/first match. -1 if none. */
static long find_key(const char *s, size_t len, size_t from, size_t to, const char *key,
                     size_t klen, int want)
{
    long best = -1;
    int best_depth = INT_MAX, depth = 0;
    size_t i = from;
    while (i < to) {
        size_t j = skip_noncode(s, len, i);
        if (j != i) {
            i = j;
            continue;
        }
        char c = s[i];
        if (c == '{' || c == '}') {
            depth += c == '{' ? 1 : -1;
            i++;
            continue;
        }
        if (!is_ident_start(c) || (i > 0 && is_ident_char(s[i - 1]))) {
            i++;
            continue;
        }
        if (key_assign_at(s, len, i, key, klen)) {
            if (want == FIND_FIRST || (want >= 0 && depth == want))
                return (long)i;
            if (want == FIND_SHALLOWEST && depth < best_depth) {
                best = (long)i;
                best_depth = depth;
            }
        }
        while (i < to && is_ident_char(s[i]))
            i++;
    }
    return best;
}

/* Index of the '}' closing the '{' at open (len if unbalanced). */
static size_t match_brace(const char *s, size_t len, size_t open)
{
    int depth = 0;
    size_t i = open;
    while (i < len) {
        size_t j = skip_noncode(s, len, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (s[i] == '{')
            depth++;
        else if (s[i] == '}' && --depth == 0)
            return i;
        i++;
    }
    return len;
}

static int line_of(const char *s, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        line += s[i] == '\n';
    return line;
}

int tt_config_find_line(const char *src, size_t len, const char *keypath)
{
    if (!src || !keypath)
        return 0;
    size_t from = 0, to = len;
    int want = FIND_SHALLOWEST, line = 0;
    const char *seg = keypath;
    while (*seg && *seg != '[') {
        size_t klen = strcspn(seg, ".[");
        if (klen == 0)
            break;
        long at = find_key(src, len, from, to, seg, klen, want);
        if (at < 0 && want >= 0) /* not in the table that follows: built some other way */
            at = find_key(src, len, from, len, seg, klen, FIND_FIRST);
        if (at < 0)
            break;
        line = line_of(src, (size_t)at);
        size_t value = skip_blank(src, len, key_assign_at(src, len, (size_t)at, seg, klen));
        if (value < len && src[value] == '{') {
            from = value + 1;
            to = match_brace(src, len, value);
            want = 0;
        } else {
            from = value;
            to = len;
            want = FIND_FIRST;
        }
        if (seg[klen] != '.')
            break;
        seg += klen + 1;
    }
    return line;
}
