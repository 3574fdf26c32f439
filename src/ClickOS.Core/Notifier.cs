namespace ClickOS.Core;

/// <summary>
/// Click's activity notifiers: a queue says whether it may have packets (empty notifier) or
/// room (full notifier), and wakes the tasks that listen when that changes, so pull chains
/// sleep instead of polling an empty queue.
/// </summary>
public class Notifier
{
    private Task[] _listeners = [];

    public Notifier(bool active = true) => Active = active;

    public bool Active { get; private set; }

    public void AddListener(Task t)
    {
        if (Array.IndexOf(_listeners, t) < 0)
            _listeners = [.. _listeners, t];
    }

    public void RemoveListener(Task t) => _listeners = _listeners.Where(x => x != t).ToArray();

    /// <summary>Sets the state; when it turns active and <paramref name="wake"/>, reschedules listeners.</summary>
    public void SetActive(bool active, bool wake = true)
    {
        bool was = Active;
        Active = active;
        if (active && !was && wake)
            Wake();
    }

    public void Wake()
    {
        foreach (var t in _listeners)
            t.Reschedule();
    }
}

/// <summary>A combination of notifiers: active when any of them is (or always/never).</summary>
public readonly struct NotifierSignal
{
    private readonly Notifier[]? _notifiers;
    private readonly byte _kind; // 0 = idle (never active), 1 = busy (always active), 2 = notifiers

    private NotifierSignal(byte kind, Notifier[]? n) { _kind = kind; _notifiers = n; }

    public static NotifierSignal Idle => new(0, null);
    public static NotifierSignal Busy => new(1, null);
    public static NotifierSignal Of(Notifier n) => new(2, [n]);

    public bool IsBusy => _kind == 1;
    public bool IsIdle => _kind == 0;

    public bool Active
    {
        get
        {
            if (_kind != 2) return _kind == 1;
            foreach (var n in _notifiers!)
                if (n.Active) return true;
            return false;
        }
    }

    public IReadOnlyList<Notifier> Notifiers => _notifiers ?? [];

    public static NotifierSignal operator +(NotifierSignal a, NotifierSignal b)
    {
        if (a._kind == 1 || b._kind == 1) return Busy;
        if (a._kind == 0) return b;
        if (b._kind == 0) return a;
        return new(2, [.. a._notifiers!, .. b._notifiers!.Where(n => Array.IndexOf(a._notifiers!, n) < 0)]);
    }

    public override string ToString() => _kind switch
    {
        0 => "idle",
        1 => "busy",
        _ => Active ? "active" : "inactive",
    };
}
