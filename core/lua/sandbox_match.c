/* sandbox_match.c - the pattern matcher behind the sandbox's string.find,
 * match, gmatch and gsub: Lua 5.4's pattern language, backtracking as Lua
 * does, with every step counted against the instruction budget. */
#include "lua/sandbox_match.h"

#include <ctype.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/sandbox_internal.h"

/* Nested matching calls before "pattern too complex": Lua's own limit
 * (MAXCCALLS in lstrlib.c), which also bounds the C stack used here. */
#define PM_MAX_DEPTH 200
/* Steps counted between two charges: a charge reads the clock, a step is a
 * few nanoseconds. */
#define PM_CHARGE_EVERY 4096

static int pm_uc(char c)
{
    return (unsigned char)c;
}

static void pm_step(tt_pm_state *ms, size_t n)
{
    ms->steps += n;
    if (ms->steps >= PM_CHARGE_EVERY)
        tt_pm_flush(ms);
}

void tt_pm_flush(tt_pm_state *ms)
{
    size_t n = ms->steps;
    ms->steps = 0;
    if (n)
        tt_sb_charge(ms->L, n);
}

void tt_pm_init(tt_pm_state *ms, lua_State *L, const char *s, size_t ls, const char *p,
                size_t lp)
{
    ms->L = L;
    ms->src = s;
    ms->src_end = s + ls;
    ms->pat_end = p + lp;
    ms->depth = PM_MAX_DEPTH;
    ms->level = 0;
    ms->steps = 0;
}

/* Character c against a class letter (%a, %d, ... upper case for the
 * complement); any other letter stands for itself. Lua uses <ctype.h> in
 * the C locale, and so does this. */
static int pm_class(int c, int letter)
{
    int in;
    switch (tolower(letter)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = c == 0; break; /* deprecated in the manual, still in Lua 5.4 */
    default: return letter == c;
    }
    return isupper(letter) ? !in : in != 0;
}

/* Just past the single-character class at p: "x", ".", "%x" or "[set]". */
static const char *pm_class_end(tt_pm_state *ms, const char *p)
{
    char c = *p++;
    if (c == '%') {
        if (p >= ms->pat_end)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c != '[')
        return p;
    const char *set = p;
    if (*p == '^')
        p++;
    /* The first member may be ']' itself, so test for the end after it. A
     * Lua string always has a '\0' past its end, so reading *pat_end is
     * safe and never a ']'. */
    do {
        if (p >= ms->pat_end)
            luaL_error(ms->L, "malformed pattern (missing ']')");
        c = *p++;
        if (c == '%' && p < ms->pat_end)
            p++;
    } while (*p != ']');
    pm_step(ms, tt_sb_bytes((size_t)(p - set)));
    return p + 1;
}

/* Is c in the set that opens at set ('[') and closes at close (']')? */
static int pm_in_set(tt_pm_state *ms, int c, const char *set, const char *close)
{
    int member = 1;
    const char *p = set + 1;
    if (*p == '^') {
        member = 0;
        p++;
    }
    /* Testing a member costs about what parsing a byte does. */
    pm_step(ms, 1 + (size_t)(close - p));
    for (; p < close; p++) {
        if (*p == '%') {
            p++;
            if (pm_class(c, pm_uc(*p)))
                return member;
        } else if (p[1] == '-' && p + 2 < close) {
            if (pm_uc(p[0]) <= c && c <= pm_uc(p[2]))
                return member;
            p += 2;
        } else if (pm_uc(*p) == c) {
            return member;
        }
    }
    return !member;
}

/* Does the character at s (if there is one) match the class p..ep? */
static int pm_single(tt_pm_state *ms, const char *s, const char *p, const char *ep)
{
    if (s >= ms->src_end)
        return 0;
    int c = pm_uc(*s);
    switch (*p) {
    case '.':
        return 1;
    case '%':
        return pm_class(c, pm_uc(p[1]));
    case '[':
        return pm_in_set(ms, c, p, ep - 1);
    default:
        return pm_uc(*p) == c;
    }
}

static const char *pm_match(tt_pm_state *ms, const char *s, const char *p);

/* %bxy at s: x, then text in which x and y balance, then y. */
static const char *pm_balance(tt_pm_state *ms, const char *s, const char *p)
{
    if (p + 1 >= ms->pat_end)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != *p)
        return NULL;
    char open = p[0], close = p[1];
    size_t depth = 1;
    const char *start = s;
    while (++s < ms->src_end) {
        if (*s == close) {
            if (--depth == 0) {
                pm_step(ms, tt_sb_bytes((size_t)(s - start)));
                return s + 1;
            }
        } else if (*s == open) {
            depth++;
        }
    }
    pm_step(ms, tt_sb_bytes((size_t)(s - start)));
    return NULL;
}

/* %1-%9 at s: the same text as that (closed) capture. */
static const char *pm_backref(tt_pm_state *ms, const char *s, int digit)
{
    int i = digit - '1';
    if (i < 0 || i >= ms->level || ms->cap[i].len == TT_PM_CAP_OPEN)
        luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    ptrdiff_t len = ms->cap[i].len;
    if (len < 0) /* a position capture has no text: never matches, as in Lua */
        return NULL;
    pm_step(ms, tt_sb_bytes((size_t)len));
    if (ms->src_end - s >= len && memcmp(ms->cap[i].start, s, (size_t)len) == 0)
        return s + len;
    return NULL;
}

/* Class p..ep repeated as often as it matches from s, then the rest of the
 * pattern (after ep's quantifier), giving back one character at a time. */
static const char *pm_greedy(tt_pm_state *ms, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (pm_single(ms, s + n, p, ep)) {
        n++;
        pm_step(ms, 1);
    }
    for (; n >= 0; n--) {
        const char *end = pm_match(ms, s + n, ep + 1);
        if (end)
            return end;
    }
    return NULL;
}

/* The rest of the pattern first, then one more repetition, and so on. */
static const char *pm_lazy(tt_pm_state *ms, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *end = pm_match(ms, s, ep + 1);
        if (end)
            return end;
        if (!pm_single(ms, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *pm_open_capture(tt_pm_state *ms, const char *s, const char *p, ptrdiff_t kind)
{
    if (ms->level >= TT_PM_MAX_CAPTURES)
        luaL_error(ms->L, "too many captures");
    ms->cap[ms->level].start = s;
    ms->cap[ms->level].len = kind;
    ms->level++;
    const char *end = pm_match(ms, s, p);
    if (!end)
        ms->level--;
    return end;
}

static const char *pm_close_capture(tt_pm_state *ms, const char *s, const char *p)
{
    int i = ms->level - 1;
    while (i >= 0 && ms->cap[i].len != TT_PM_CAP_OPEN)
        i--;
    if (i < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->cap[i].len = s - ms->cap[i].start;
    const char *end = pm_match(ms, s, p);
    if (!end)
        ms->cap[i].len = TT_PM_CAP_OPEN;
    return end;
}

/* %f[set] at s: the previous character (or '\0') is not in the set and the
 * current one (or '\0' at the end) is. Returns the pattern after it or NULL. */
static const char *pm_frontier(tt_pm_state *ms, const char *s, const char *p)
{
    if (*p != '[')
        luaL_error(ms->L, "missing '[' after '%%f' in pattern");
    const char *ep = pm_class_end(ms, p);
    int before = s == ms->src ? 0 : pm_uc(s[-1]);
    int here = s < ms->src_end ? pm_uc(*s) : 0;
    if (!pm_in_set(ms, before, p, ep - 1) && pm_in_set(ms, here, p, ep - 1))
        return ep;
    return NULL;
}

/* The items from p on, matched at s: items that cannot backtrack advance in
 * the loop, the others recurse (through pm_match, which counts depth). */
static const char *pm_items(tt_pm_state *ms, const char *s, const char *p)
{
    for (;;) {
        pm_step(ms, 1);
        if (p == ms->pat_end)
            return s;
        switch (*p) {
        case '(':
            if (p + 1 < ms->pat_end && p[1] == ')')
                return pm_open_capture(ms, s, p + 2, TT_PM_CAP_POSITION);
            return pm_open_capture(ms, s, p + 1, TT_PM_CAP_OPEN);
        case ')':
            return pm_close_capture(ms, s, p + 1);
        case '$':
            if (p + 1 == ms->pat_end)
                return s == ms->src_end ? s : NULL;
            break; /* anywhere else a plain character */
        case '%':
            if (p[1] == 'b') {
                if (!(s = pm_balance(ms, s, p + 2)))
                    return NULL;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                if (!(p = pm_frontier(ms, s, p + 2)))
                    return NULL;
                continue;
            }
            if (isdigit(pm_uc(p[1]))) {
                if (!(s = pm_backref(ms, s, pm_uc(p[1]))))
                    return NULL;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        /* A single-character class, maybe with a quantifier after it. */
        const char *ep = pm_class_end(ms, p);
        char q = ep < ms->pat_end ? *ep : '\0';
        if (!pm_single(ms, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') { /* zero repetitions will do */
                p = ep + 1;
                continue;
            }
            return NULL;
        }
        switch (q) {
        case '?': {
            const char *end = pm_match(ms, s + 1, ep + 1);
            if (end)
                return end;
            p = ep + 1;
            continue;
        }
        case '+':
            return pm_greedy(ms, s + 1, p, ep);
        case '*':
            return pm_greedy(ms, s, p, ep);
        case '-':
            return pm_lazy(ms, s, p, ep);
        default:
            s++;
            p = ep;
            continue;
        }
    }
}

static const char *pm_match(tt_pm_state *ms, const char *s, const char *p)
{
    if (ms->depth-- == 0)
        luaL_error(ms->L, "pattern too complex");
    const char *end = pm_items(ms, s, p);
    ms->depth++;
    return end;
}

const char *tt_pm_match(tt_pm_state *ms, const char *s, const char *p)
{
    ms->level = 0;
    ms->depth = PM_MAX_DEPTH;
    /* Each attempt also pays for the caller's work around it (gsub copying
     * the character it skips, find moving on). */
    pm_step(ms, 1);
    return pm_match(ms, s, p);
}

void tt_pm_push_capture(tt_pm_state *ms, int i, const char *s, const char *e)
{
    if (i >= ms->level) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = ms->cap[i].len;
    if (len == TT_PM_CAP_OPEN)
        luaL_error(ms->L, "unfinished capture");
    if (len == TT_PM_CAP_POSITION)
        lua_pushinteger(ms->L, (lua_Integer)(ms->cap[i].start - ms->src) + 1);
    else
        lua_pushlstring(ms->L, ms->cap[i].start, (size_t)len);
}

int tt_pm_push_captures(tt_pm_state *ms, const char *s, const char *e)
{
    int n = ms->level == 0 && s ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        tt_pm_push_capture(ms, i, s, e);
    return n;
}
