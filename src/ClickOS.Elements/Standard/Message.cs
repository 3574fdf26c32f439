using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Message(MESSAGE [, TYPE]): prints MESSAGE once while the router is configured.
/// TYPE is MESSAGE (default), WARNING or ERROR (an error stops the router from starting).
/// </summary>
/// <example>Message("hello from the configuration"); DriverManager(stop);</example>
public sealed class Message : Element
{
    public override string PortCount => "0/0";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var msg = a.ReadMP("MESSAGE", Args.String);
        var type = a.ReadP("TYPE", Args.Word, "MESSAGE");
        if (!a.Complete()) return false;
        switch (type.Value)
        {
            case "MESSAGE": errh.Message(msg.Value); return true;
            case "WARNING": errh.Warning("warning: " + msg.Value); return true;
            case "ERROR": return errh.Error(msg.Value);
            default: return errh.Error("unrecognized message type");
        }
    }
}
