namespace ClickOS.Elements;

/// <summary>
/// DriverManager(INSTRUCTIONS...): a Script of TYPE DRIVER that controls when the driver stops.
/// "pause"/"wait_stop [N]" wait for N stop requests (e.g. sources with STOP true), "wait TIME"
/// waits, "stop" stops the driver; reaching the end stops it too. With no instructions it stops
/// at the first stop request.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard; DriverManager(pause, print c.count, stop);</example>
public sealed class DriverManager : Script
{
    protected override ScriptType DefaultType => ScriptType.Driver;
}
