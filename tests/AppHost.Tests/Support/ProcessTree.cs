using System.Runtime.InteropServices;

namespace FineTune.AppHost.Tests;

/// <summary>Linux process facts from /proc: descendants of a process, and whether a given process (pid + start time) still lives.</summary>
public static partial class ProcessTree
{
    public sealed record Proc(int Pid, int ParentPid, long StartTime, string Command);

    public static IReadOnlyList<Proc> All()
    {
        var list = new List<Proc>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            if (Read(pid) is { } proc)
                list.Add(proc);
        }
        return list;
    }

    /// <summary>Every process below <paramref name="root"/>, transitively.</summary>
    public static IReadOnlyList<Proc> Descendants(int root)
    {
        var all = All();
        var result = new List<Proc>();
        var frontier = new Queue<int>([root]);
        while (frontier.Count > 0)
        {
            var parent = frontier.Dequeue();
            foreach (var child in all.Where(p => p.ParentPid == parent))
            {
                result.Add(child);
                frontier.Enqueue(child.Pid);
            }
        }
        return result;
    }

    /// <summary>True while the same process (not a reused pid) exists and is not a zombie.</summary>
    public static bool IsAlive(Proc proc) => Read(proc.Pid) is { } now && now.StartTime == proc.StartTime && State(proc.Pid) != 'Z';

    public static bool IsAlive(int pid) => Read(pid) is not null && State(pid) != 'Z';

    private static Proc? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var command = stat[(stat.IndexOf('(') + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            // fields[0] = state, [1] = ppid, [19] = starttime
            return new Proc(pid, int.Parse(fields[1]), long.Parse(fields[19]), command);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static char State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return 'X';
        }
    }

    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    public static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
