using System.Runtime.InteropServices;

namespace Plexus.Test.MissingNative;

internal static partial class NativeMethods
{
    // No such library ships anywhere.
    [LibraryImport("plexus_absent_native", EntryPoint = "plexus_absent_probe")]
    internal static partial int Probe();
}
