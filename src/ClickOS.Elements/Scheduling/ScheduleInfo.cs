using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ScheduleInfo(ELEMENT PARAM, ...): gives ELEMENT's tasks PARAM times the default share of
/// the CPU (tickets = PARAM × 1024, at most 32768). Names are relative to ScheduleInfo's
/// compound; a compound's parameter multiplies its inner elements'.
/// </summary>
/// <example>InfiniteSource(LIMIT 100, STOP true) -> Queue -> u :: Unqueue -> Discard; ScheduleInfo(u 0.5);</example>
public sealed class ScheduleInfo : Element
{
    public override string PortCount => "0/0";
    public override int ConfigurePhaseValue => ConfigurePhase.Info;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        string prefix = Name.Contains('/') ? Name[..(Name.LastIndexOf('/') + 1)] : "";
        bool ok = true;
        foreach (var arg in conf)
        {
            var parts = ConfigText.SplitSpace(arg);
            if (parts.Count != 2 || !Values.ParseDouble(parts[1], out double v) || v < 0)
            {
                ok = errh.Error("expected 'ELEMENTNAME PARAM'");
                continue;
            }
            Host.ScheduleParams[prefix + parts[0]] = v;
        }
        return ok;
    }

    /// <summary>The tickets for <paramref name="e"/>'s task from every ScheduleInfo that names it or a compound containing it.</summary>
    public static int TicketsFor(ElementHost host, Element e)
    {
        if (host.ScheduleParams.Count == 0) return Task.DefaultTickets;
        double t = Task.DefaultTickets;
        string name = e.Name;
        int start = 0;
        while (true)
        {
            int slash = name.IndexOf('/', start);
            string prefix = slash < 0 ? name : name[..slash];
            if (host.ScheduleParams.TryGetValue(prefix, out double v)) t *= v;
            if (slash < 0) break;
            start = slash + 1;
        }
        if (t > Task.MaxTickets)
        {
            host.RuntimeErrors.Warning($"ScheduleInfo too high; reduced to {Task.MaxTickets / 1024.0}");
            t = Task.MaxTickets;
        }
        return Math.Max(1, (int)t);
    }
}
