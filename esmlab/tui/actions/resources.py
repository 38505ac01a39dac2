"""Create, edit and delete resources in forms (AWS's refusals stay in the form)."""

from __future__ import annotations

from esmlab import readmodels as rm
from esmlab.errors import AwsError, LabError
from esmlab.tui.said import said
from esmlab.tui.screens import resources as res
from esmlab.tui.screens.forms import PickScreen
from esmlab.tui.screens.resources import ConfirmScreen, ResourceForm
from esmlab.tui.widgets.tree import ResourceTree


class ResourceActions:
    """Mixed into EsmlabApp; uses its lab, selection and refresh_view()."""

    def _open_form(self, title: str, fields: list, submit, ok: str, select=None,
                   note: str = "") -> None:
        """Open a ResourceForm. `submit(values)` returns the notice (or
        (notice, tree key)); AWS's refusals stay in the form."""
        chosen: list = []

        def run(values):
            result = submit(values)
            line, key = result if isinstance(result, tuple) else (
                result, select(values) if select else None)
            chosen.append(key)
            return line

        def done(line):
            key = chosen[-1] if chosen else None
            if line is not None:
                self.notify(line)
                if key:
                    self.selected = key
                    self._queue_offset = 0
            self.refresh_view()           # a DLQ made before a refusal shows too
            if line is not None and key:
                self.call_after_refresh(self.query_one(ResourceTree).show, key)
        self.push_screen(ResourceForm(title, fields, run, ok=ok, note=note), done)

    def action_new_resource(self) -> None:
        if not self._guard():
            return
        self.push_screen(PickScreen("Create…", [
            ("SQS queue (standard, or FIFO when the name ends .fifo; with a DLQ)", "queue"),
            ("Kinesis data stream", "stream"),
            ("Lambda function", "function"),
            ("Event source mapping (fields, or paste get-event-source-mapping JSON)", "mapping"),
        ]), self.new_form)

    def new_form(self, kind: str | None) -> None:
        """Open the create form for a kind of resource."""
        if not kind:
            return
        lab = self.lab
        empty = "Empty fields are AWS's defaults (not sent)."
        if kind == "queue":
            self._open_form("New SQS queue (CreateQueue)", res.queue_fields(),
                            lambda v: res.queue_create_submit(lab, v), "Create",
                            lambda v: ("queue", v["QueueName"].strip()), empty)
        elif kind == "stream":
            self._open_form("New Kinesis data stream (CreateStream)", res.stream_fields(),
                            lambda v: res.stream_create_submit(lab, v), "Create",
                            lambda v: ("stream", v["StreamName"].strip()), empty)
        elif kind == "function":
            self._open_form("New Lambda function", res.function_fields(),
                            lambda v: res.function_create_submit(lab, v), "Create",
                            lambda v: ("function", v["FunctionName"].strip()), empty)
        elif kind == "mapping":
            src = self.selected_source()
            arn = None
            if src and src[0] == "queue":
                arn = res.arns.queue_arn(src[1])
            elif src and src[0] == "stream":
                arn = next((a for _, a in rm.form_choices(lab)["sources"]
                            if res.arns.name_of(a) == src[1]), None)
            fields = res.mapping_fields(lab, None, self.selected_function(), arn)

            def submit(v):
                line, label = res.mapping_create_submit(lab, v)
                return line, ("mapping", label)
            self._open_form("New event source mapping (CreateEventSourceMapping)", fields,
                            submit, "Create", note=empty + " Stream-only fields are refused "
                            "for a queue, as AWS does.")

    def action_edit_resource(self) -> None:
        if not self._guard():
            return
        sel = self.selected
        lab = self.lab
        kind = sel[0] if sel else None
        try:
            if kind == "mapping":
                cur = rm.mapping_settings(lab, sel[1])
                self._open_form(
                    f"Edit mapping {cur['label']} (UpdateEventSourceMapping)",
                    res.mapping_fields(lab, cur), lambda v: res.mapping_edit_submit(lab, cur, v),
                    "Update", note=f"{cur['uuid']}, state {cur['state']}. Only changed fields "
                    "are sent; an emptied field is left as it is (an emptied OnFailure or "
                    "MaximumConcurrency is removed).")
            elif kind == "function":
                cur = rm.function_settings(lab, sel[1])
                self._open_form(f"Edit function {sel[1]}", res.function_fields(cur),
                                lambda v: res.function_edit_submit(lab, cur, v), "Update",
                                note="Only changed fields are sent; an empty reserved "
                                "concurrency means unreserved.")
            elif kind == "queue":
                cur = rm.queue_settings(lab, sel[1])
                self._open_form(f"Edit queue {sel[1]} (SetQueueAttributes)",
                                res.queue_fields(cur),
                                lambda v: res.queue_edit_submit(lab, cur, v), "Update",
                                note="Only changed attributes are sent; an emptied DLQ name "
                                "removes the RedrivePolicy.")
            elif kind in ("stream", "shard"):
                cur = rm.stream_settings(lab, sel[1])
                self._open_form(f"Edit stream {sel[1]}", res.stream_fields(cur),
                                lambda v: res.stream_edit_submit(lab, cur, v), "Update")
            else:
                self.notify("select a mapping, function, queue or stream in the tree to edit it",
                            severity="warning")
        except (AwsError, LabError) as exc:
            self.notify(said(exc), title="refused", severity="error")

    def action_delete_resource(self) -> None:
        if not self._guard():
            return
        sel = self.selected
        kind = sel[0] if sel else None
        if kind == "mapping":
            self._confirm_delete(
                f"Delete mapping {sel[1]}?",
                "DeleteEventSourceMapping: polling stops; the source's records or messages "
                "stay. Rewind (ctrl+r) brings it back.",
                lambda: self.lab.delete_mapping(sel[1]),
                lambda made: f"mapping {sel[1]}: state {made['State']}; it is gone after the "
                             "next step")
            return
        what = {"queue": ("queue", "delete_queue", "DeleteQueue: the queue and its messages "
                          "go; a mapping reading it stops finding it."),
                "function": ("function", "delete_function", "DeleteFunction: the function "
                             "goes; its mappings stay until deleted."),
                "stream": ("stream", "delete_stream", "DeleteStream: the stream and its "
                           "records go; a mapping reading it stops finding it.")}.get(kind)
        delete = getattr(self.lab, what[1], None) if what else None
        if delete is None:
            self.notify("select a mapping, queue or function to delete it", severity="warning")
            return
        self._confirm_delete(f"Delete {what[0]} {sel[1]}?",
                             what[2] + " Rewind (ctrl+r) brings it back.",
                             lambda: delete(sel[1]), lambda _: f"{what[0]} {sel[1]} deleted")

    def _confirm_delete(self, title: str, text: str, run, said) -> None:
        def done(yes):
            if not yes:
                return
            made = self._call(run)
            if made is not None or not self._exists(self.selected):
                self.notify(said(made))
            self.reload_view()
        self.push_screen(ConfirmScreen(title, text), done)

    def _exists(self, key: tuple) -> bool:
        model = rm.resources(self.lab)
        if key[0] == "queue":
            return any(q["name"] == key[1] for q in model["queues"])
        if key[0] == "function":
            return any(f["name"] == key[1] for f in model["functions"])
        if key[0] == "stream":
            return any(st["name"] == key[1] for st in model["streams"])
        return True

