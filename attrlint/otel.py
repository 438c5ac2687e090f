"""`attrlint.otel`: OpenTelemetry export of cost records; lives in `attrlint.runtime.otel`."""

from attrlint.runtime.otel import disable, enable

__all__ = ["disable", "enable"]
