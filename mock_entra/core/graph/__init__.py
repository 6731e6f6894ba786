"""The fake Microsoft Graph: the token gate and the directory calls with their query options."""
