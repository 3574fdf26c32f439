namespace ClickOS.Core;

[Flags]
public enum HandlerFlags
{
    None = 0,
    /// <summary>Value is returned as is; otherwise a trailing newline is ensured.</summary>
    Raw = 1,
    /// <summary>Read handler takes a parameter (Click's READ_PARAM).</summary>
    ReadParam = 2,
    /// <summary>Not listed for -h completion or hot-swap, only callable (Click's CALM/expensive are hints).</summary>
    Expensive = 4,
    /// <summary>A write handler that takes no value (a button, like "reset").</summary>
    Button = 8,
    /// <summary>
    /// Called on the control thread that received the request instead of the router's thread,
    /// so slow work (parsing and initializing a new configuration) does not hold up forwarding.
    /// Such a handler synchronizes with the router itself.
    /// </summary>
    ControlThread = 16,
}

public delegate string? ReadHandlerFn(string param, ErrorHandler errh);
public delegate bool WriteHandlerFn(string value, ErrorHandler errh);

/// <summary>A named read and/or write handler on an element (or on the router, element null).</summary>
public sealed class Handler(string name, ReadHandlerFn? read, WriteHandlerFn? write, HandlerFlags flags)
{
    public string Name { get; } = name;
    public ReadHandlerFn? ReadFn { get; internal set; } = read;
    public WriteHandlerFn? WriteFn { get; internal set; } = write;
    public HandlerFlags Flags { get; internal set; } = flags;
    public bool CanRead => ReadFn != null;
    public bool CanWrite => WriteFn != null;

    /// <summary>Calls the read handler; null means it failed (the error is in errh).</summary>
    public string? CallRead(string param, ErrorHandler errh)
    {
        if (ReadFn == null)
        {
            errh.Error($"'{Name}' is not a read handler");
            return null;
        }
        return ReadFn(param, errh);
    }

    /// <summary>A read value as Click's driver prints it: non-raw, non-empty values end with a newline.</summary>
    public string Terminated(string value) =>
        (Flags & HandlerFlags.Raw) != 0 || value.Length == 0 || value[^1] == '\n' ? value : value + "\n";

    public bool CallWrite(string value, ErrorHandler errh)
    {
        if (WriteFn == null)
            return errh.Error($"'{Name}' is not a write handler");
        return WriteFn(value, errh);
    }
}
