"""`qualcode codebook ...` subcommands."""

from pathlib import Path

import pytest

from qualcode.cli import main
from qualcode.codebook import Codebook

ROOT = Path(__file__).parent.parent
TP = str(ROOT / "codebooks" / "technocratic_planning.yaml")
DATA = Path(__file__).parent / "data" / "codebooks"


def test_validate_ok_and_invalid(capsys):
    assert main(["codebook", "validate", TP, str(ROOT / "codebooks" / "ai_in_government.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.count(": OK (") == 2
    assert main(["codebook", "validate", str(DATA / "many_problems.yaml")]) == 1
    err = capsys.readouterr().err
    assert "6 problems" in err and "many_problems.yaml:11:9: codes[1].id: duplicate code id 'a'" in err


def test_show_tree_and_table(capsys):
    assert main(["codebook", "show", TP]) == 0
    assert "    convergence (Dominant central convergence):" in capsys.readouterr().out
    assert main(["codebook", "show", TP, "--table"]) == 0
    out = capsys.readouterr().out
    assert "n_rules" in out and "fragile_technocracy" in out


def test_export_import_and_diff(tmp_path, capsys):
    qdc = tmp_path / "tp.qdc"
    assert main(["codebook", "export", TP, "--qdc", str(qdc)]) == 0
    assert main(["codebook", "export", TP, "--qdc", str(qdc)]) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err
    out_yaml = tmp_path / "tp.yaml"
    assert main(["codebook", "import", str(qdc), "--yaml", str(out_yaml)]) == 0
    assert Codebook.load(out_yaml) == Codebook.load(TP)
    assert main(["codebook", "diff", TP, str(out_yaml)]) == 0
    assert "no differences" in capsys.readouterr().out
    edited = tmp_path / "edited.yaml"
    edited.write_text(Path(TP).read_text(encoding="utf-8").replace("version: 1.1.0", "version: 1.1.1"),
                      encoding="utf-8")
    assert main(["codebook", "diff", TP, str(edited), "--csv", str(tmp_path / "d.csv")]) == 0
    assert "~ <codebook>.version: 1.1.0 -> 1.1.1" in capsys.readouterr().out
    assert (tmp_path / "d.csv").read_text().startswith("code,change,field,old,new")


def test_import_csv_and_errors(tmp_path, capsys):
    out = tmp_path / "flat.yaml"
    assert main(["codebook", "import", str(DATA / "flat_codebook.csv"), "--yaml", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    atlas = tmp_path / "atlas.yaml"
    assert main(["codebook", "import", str(DATA / "atlas_flat_names.qdc"), "--yaml", str(atlas)]) == 0
    assert "2 leaf code(s) have no definition yet (convergence, synchronisation)" in capsys.readouterr().err
    assert main(["codebook", "validate", str(atlas)]) == 0  # loads, as Codebook.load does ...
    assert "2 code(s) without a definition: convergence, synchronisation" in capsys.readouterr().err  # ... with a warning
    assert Codebook.from_table(DATA / "flat_codebook.csv").ids == ["planning_process", "convergence",
                                                                   "data_based_policy"]
    assert main(["codebook", "import", str(DATA / "xxe.qdc"), "--yaml", str(tmp_path / "x.yaml")]) == 2
    assert "refused for safety" in capsys.readouterr().err
    assert main(["codebook", "import", str(DATA / "ok_minimal.yaml"), "--yaml", str(tmp_path / "y.yaml")]) == 2
    assert "use .qdc, .csv or .xlsx" in capsys.readouterr().err
    assert main(["codebook", "show", str(tmp_path / "missing.yaml")]) == 2


@pytest.mark.parametrize("argv", [["codebook"], ["codebook", "frobnicate"], ["codebook", "export", TP],
                                  ["codebook", "diff", TP]])
def test_bad_arguments_give_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err
