"""Triggers: what starts runs by itself (spec, "Triggers").

- `events`: the normalized event and its validation;
- `adapters`: Alertmanager, Grafana and Datadog webhook bodies to events;
- `signatures`: webhook signature checks (GitHub's and Switchyard's);
- `matching`: which published workflows an event starts, rate limits,
  trigger inputs templated from the event.
"""
