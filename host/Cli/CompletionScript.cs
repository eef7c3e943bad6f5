namespace Plexus.Host.Cli;

/// <summary>
/// <c>completion bash</c>: a bash function that asks this executable which words fit at the cursor (System.CommandLine's
/// <c>[suggest:position]</c> directive) and offers them, for the names <c>plexus</c> and <c>Plexus.Host</c>.
/// </summary>
internal static class CompletionScript
{
    public static string Bash(string processPath, string assemblyPath)
    {
        // Run as "dotnet Plexus.Host.dll" or as the apphost: the script calls it the same way.
        var self = Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? $"\"{processPath}\" \"{assemblyPath}\"" : $"\"{processPath}\"";
        return $$"""
            # Plexus host completion for bash: source this file, or add it to ~/.bashrc.
            _plexus_complete()
            {
                local line="${COMP_LINE#* }"
                local point=$(( COMP_POINT - ${#COMP_LINE} + ${#line} ))
                local IFS=$'\n'
                COMPREPLY=( $({{self}} "[suggest:${point}]" "${line}" 2>/dev/null) )
            }
            complete -F _plexus_complete plexus Plexus.Host

            """;
    }
}
