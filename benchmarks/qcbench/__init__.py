"""Accuracy benchmark harness: tasks, protocols (zero-shot, grouped CV, halves, few-shot), predictors."""

from .core import (
           Outcome,
           Part,
           Task,
           code_table,
           evaluate,
           few_shot_split,
           group_folds,
           kappa,
           span_labels,
)

__all__ = ["Outcome", "Part", "Task", "code_table", "evaluate", "few_shot_split", "group_folds", "kappa",
           "span_labels"]
