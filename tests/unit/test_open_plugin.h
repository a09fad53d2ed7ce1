/* test_open_plugin.h - a built plugin opened straight from the build tree
 * (TT_PLUGIN_BUILD_DIR/NAME.so) by the tests that drive one plugin's
 * descriptor by hand, without the registry. Header-only (static inline);
 * include after <cmocka.h>. */
#ifndef TT_TEST_OPEN_PLUGIN_H
#define TT_TEST_OPEN_PLUGIN_H

#include <dlfcn.h>
#include <stdio.h>

#include "tautune/plugin.h"

typedef struct plugin {
    void *so;
    const tt_plugin_descriptor *d;
} plugin;

/* Fails the test unless NAME.so loads and its descriptor is named NAME. */
static inline plugin open_plugin(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.so", TT_PLUGIN_BUILD_DIR, name);
    plugin p = {dlopen(path, RTLD_NOW | RTLD_LOCAL), NULL};
    if (!p.so)
        fail_msg("dlopen %s: %s", path, dlerror());
    tt_plugin_entry_fn entry = (tt_plugin_entry_fn)dlsym(p.so, TT_PLUGIN_ENTRY_NAME);
    assert_non_null(entry);
    p.d = entry();
    assert_string_equal(p.d->name, name);
    return p;
}

static inline void close_plugin(plugin *p)
{
    dlclose(p->so);
}

#endif
