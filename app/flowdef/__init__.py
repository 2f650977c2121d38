"""The flow language: YAML/JSON -> validated, frozen, compiled flow definition."""
from .compiled import CompiledFlow
from .loader import (FlowIssue, FlowLoadError, dump_flow, dump_flow_yaml, flow_from_json,
                     load_flow_file, parse_flow_text)
from .model import FieldDef, FlowDef, NodeDef, ProcessorSpec, TransitionDef

__all__ = [
    "CompiledFlow", "FlowIssue", "FlowLoadError", "dump_flow", "dump_flow_yaml", "flow_from_json",
    "load_flow_file", "parse_flow_text", "FieldDef", "FlowDef", "NodeDef", "ProcessorSpec", "TransitionDef",
]
