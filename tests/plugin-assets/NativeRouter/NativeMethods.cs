using System.Runtime.InteropServices;

namespace Plexus.Test.NativeRouter;

internal static partial class NativeMethods
{
    [LibraryImport("plexusnative", EntryPoint = "plexus_test_add")]
    internal static partial int Add(int a, int b);
}
