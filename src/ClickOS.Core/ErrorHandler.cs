using System.Text;

namespace ClickOS.Core;

public enum Severity { Message, Warning, Error }

/// <summary>
/// Click-style diagnostics. Every message may carry a landmark ("file:line"), which is
/// printed as a prefix. Errors are counted so callers can report all of them and then fail.
/// </summary>
public abstract class ErrorHandler
{
    public int ErrorCount { get; private set; }
    public int WarningCount { get; private set; }

    /// <summary>Reports an error; always returns false so callers can write <c>return errh.Error(...)</c>.</summary>
    public bool Error(string message) => Report(Severity.Error, null, message);
    public bool Error(string? landmark, string message) => Report(Severity.Error, landmark, message);
    public bool Warning(string message) => Report(Severity.Warning, null, message);
    public bool Warning(string? landmark, string message) => Report(Severity.Warning, landmark, message);
    public bool Message(string message) => Report(Severity.Message, null, message);
    public bool Message(string? landmark, string message) => Report(Severity.Message, landmark, message);

    public bool Report(Severity severity, string? landmark, string message)
    {
        if (severity == Severity.Error) ErrorCount++;
        else if (severity == Severity.Warning) WarningCount++;
        Emit(severity, landmark, message);
        return false;
    }

    protected abstract void Emit(Severity severity, string? landmark, string message);

    /// <summary>Formats a message as Click prints it: each line prefixed with the landmark.</summary>
    public static string Format(string? landmark, string message)
    {
        if (string.IsNullOrEmpty(landmark))
            return message;
        var sb = new StringBuilder();
        foreach (var line in message.Split('\n'))
        {
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(landmark).Append(": ").Append(line);
        }
        return sb.ToString();
    }

    /// <summary>Discards everything (counts are kept per instance, so use a fresh one where counts matter).</summary>
    public static ErrorHandler Silent => new NullErrorHandler();
}

/// <summary>Discards messages.</summary>
public sealed class NullErrorHandler : ErrorHandler
{
    protected override void Emit(Severity severity, string? landmark, string message) { }
}

/// <summary>Writes each message to a text writer, one line per message line.</summary>
public sealed class TextErrorHandler(TextWriter writer) : ErrorHandler
{
    protected override void Emit(Severity severity, string? landmark, string message)
    {
        writer.Write(Format(landmark, message));
        writer.Write('\n');
        writer.Flush();
    }
}

/// <summary>Keeps messages in memory (tests, control-protocol replies, hot-swap errors).</summary>
public sealed class CollectingErrorHandler : ErrorHandler
{
    private readonly List<(Severity Severity, string Text)> _messages = [];
    public IReadOnlyList<(Severity Severity, string Text)> Messages => _messages;
    public string Text => string.Join("\n", _messages.Select(m => m.Text));

    protected override void Emit(Severity severity, string? landmark, string message) =>
        _messages.Add((severity, Format(landmark, message)));
}

/// <summary>
/// Prefixes the first message with a context line ("While configuring 'x :: C':") and
/// indents every message under it, as Click's ContextErrorHandler does.
/// </summary>
public sealed class ContextErrorHandler(ErrorHandler parent, string? landmark, string context, string indent = "  ") : ErrorHandler
{
    private bool _contextPrinted;

    protected override void Emit(Severity severity, string? lm, string message)
    {
        if (!_contextPrinted)
        {
            _contextPrinted = true;
            parent.Report(Severity.Message, landmark, context);
        }
        var lines = message.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string text = indent + (lm != null && lm != landmark ? lm + ": " : "") + lines[i];
            // The parent counts each message once.
            parent.Report(i == 0 ? severity : Severity.Message, null, text);
        }
    }
}
