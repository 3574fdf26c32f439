using System.Threading.Tasks;
using System.Diagnostics;

namespace ClickOS.Host;

public enum InstanceState
{
    /// <summary>Being started: waiting for the router to report it is forwarding.</summary>
    Starting,
    Running,
    /// <summary>Paused by the operator: no CPU, state kept.</summary>
    Paused,
    /// <summary>Paused by the host after its idle period; woken by an API request or handler call.</summary>
    Sleeping,
    /// <summary>Not running: stopped by the operator, or its configuration finished.</summary>
    Stopped,
    /// <summary>Crashed (and not restarted, or waiting for its next restart).</summary>
    Failed,
}

/// <summary>One middlebox instance as the host tracks it. Guarded by the host's lock.</summary>
public sealed class Instance
{
    internal Instance(InstanceSpec spec, string directory)
    {
        Spec = spec;
        Directory = directory;
    }

    public InstanceSpec Spec { get; internal set; }
    public InstanceState State { get; internal set; } = InstanceState.Stopped;
    public string Directory { get; }
    public string LogPath => Path.Combine(Directory, "log");
    /// <summary>The ControlSocket the host serves for Click tools (it wakes a sleeping instance).</summary>
    public string ControlSocketPath => Path.Combine(Directory, "control.sock");
    public string Name => Spec.Name;
    public int Pid { get; internal set; }
    public int Restarts { get; internal set; }
    public string? LastError { get; internal set; }
    public DateTime CreatedUtc { get; internal set; } = DateTime.UtcNow;
    public DateTime? StartedUtc { get; internal set; }
    /// <summary>Time from the start request to the router reporting it forwards.</summary>
    public TimeSpan? StartLatency { get; internal set; }
    /// <summary>Its switch ports and the directory their regions are in (null: none).</summary>
    internal List<Switch.VifPortEnd> Ports { get; } = [];
    public string? VifDirectory { get; internal set; }

    internal long StartTicks;
    internal TaskCompletionSource<string?> ReadySignal = NewReady();
    internal TaskCompletionSource ExitSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    internal int PidFd = -1;
    internal long RestartAtTicks;
    /// <summary>The worker a shared instance lives in.</summary>
    internal WorkerClient? Worker;

    internal static TaskCompletionSource<string?> NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string StateText => State switch
    {
        InstanceState.Starting => "starting",
        InstanceState.Running => "running",
        InstanceState.Paused => "paused",
        InstanceState.Sleeping => "sleeping",
        InstanceState.Stopped => "stopped",
        _ => "failed",
    };

    internal void MarkStarting()
    {
        State = InstanceState.Starting;
        StartTicks = Stopwatch.GetTimestamp();
        ReadySignal = NewReady();
    }
}
