/* Called by the NativeRouter test plugin through LibraryImport. */
int plexus_test_add(int a, int b)
{
    return a + b;
}
