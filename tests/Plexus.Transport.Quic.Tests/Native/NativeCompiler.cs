using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// Compiles a C program from the test output directory (<c>Native/*.c</c> is copied there) with the system gcc and
/// runs it. Missing tools, headers or libraries make the calling test fail with the Debian packages to install; they
/// never skip it.
/// </summary>
internal static class NativeCompiler
{
    private static readonly TimeSpan CompileTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Compiles <paramref name="sourceFile"/> into a temporary directory, runs it and returns its standard output.</summary>
    /// <param name="sourceFile">The C file; a relative path is taken relative to the test output directory (e.g. <c>Native/layouts.c</c>).</param>
    /// <param name="linkFlags">Flags after the source file, typically <c>-l</c> libraries.</param>
    /// <param name="requiredPackages">The Debian packages that provide gcc, the headers and the libraries, named in failure messages.</param>
    /// <returns>What the program wrote to standard output.</returns>
    public static string CompileAndRun(string sourceFile, IReadOnlyList<string> linkFlags, string requiredPackages)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"plexus-native-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            var executable = Compile(sourceFile, directory, linkFlags, requiredPackages);
            var run = RunProcess(executable, [], RunTimeout, $"running {Path.GetFileName(executable)}", requiredPackages);
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{Path.GetFileName(executable)} exited with code {run.ExitCode}.\nstderr:\n{run.StandardError}\nstdout:\n{run.StandardOutput}");
            }

            return run.StandardOutput;
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory is not worth failing the test over.
            }
        }
    }

    /// <summary>Compiles <paramref name="sourceFile"/> with warnings as errors into <paramref name="outputDirectory"/>.</summary>
    /// <param name="sourceFile">The C file; a relative path is taken relative to the test output directory.</param>
    /// <param name="outputDirectory">An existing directory to put the executable in.</param>
    /// <param name="linkFlags">Flags after the source file, typically <c>-l</c> libraries.</param>
    /// <param name="requiredPackages">The Debian packages that provide gcc, the headers and the libraries, named in failure messages.</param>
    /// <returns>The path of the executable.</returns>
    public static string Compile(string sourceFile, string outputDirectory, IReadOnlyList<string> linkFlags, string requiredPackages)
    {
        var source = Path.IsPathRooted(sourceFile) ? sourceFile : Path.Combine(AppContext.BaseDirectory, sourceFile);
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"The C source {source} is missing; the test project copies Native/*.c to its output directory.", source);
        }

        var executable = Path.Combine(outputDirectory, Path.GetFileNameWithoutExtension(source));
        string[] arguments = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", executable, source, .. linkFlags];
        var result = RunProcess("gcc", arguments, CompileTimeout, $"compiling {Path.GetFileName(source)}", requiredPackages);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"gcc failed to compile {Path.GetFileName(source)} (exit code {result.ExitCode}). If a header or library is missing, " +
                $"install the Debian packages: apt-get install {requiredPackages}\n" +
                $"gcc {string.Join(' ', arguments)}\n{result.StandardError}{result.StandardOutput}");
        }

        return executable;
    }

    private static (int ExitCode, string StandardOutput, string StandardError) RunProcess(
        string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, string what, string requiredPackages)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName} ({what}).");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"Could not start {fileName} ({what}): {e.Message}. Install the Debian packages: apt-get install {requiredPackages}", e);
        }

        using (process)
        {
            // Read both streams concurrently so a chatty process cannot block on a full pipe.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException(
                    string.Create(CultureInfo.InvariantCulture, $"{fileName} ({what}) did not finish within {timeout.TotalSeconds} s."));
            }

            process.WaitForExit(); // Lets the output readers reach end of stream.
            return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }
}
