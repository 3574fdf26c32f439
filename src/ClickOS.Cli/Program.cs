using ClickOS.Cli;

return ClickOsMain.Run(args);
