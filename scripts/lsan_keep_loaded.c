/* Preloaded by scripts/sanitize.sh into the AddressSanitizer test run: dlclose() that
 * never unloads. LeakSanitizer checks for leaks at exit, after glfwTerminate() has had
 * Mesa unload its driver (swrast_dri.so). Memory the driver still pointed to from its
 * globals then looks leaked, allocated from code that is no longer mapped, so the report
 * cannot name the library and no suppression can match it. With every library left
 * mapped until exit, its globals are roots like any other library's. */
int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
