"""Running the indicator plan on Apache Spark (the State's national consolidation), transpiled by sqlglot.

The plan is written in DuckDB's dialect (moteur.py). Every view and statement is transpiled to Spark SQL
and registered as a temporary view of a Spark session of its own; the small tables the plan reads from
the DuckDB connection (the geography) are copied over through Arrow; `base` is computed once and kept,
as DuckDB materialises it. The result has the same rows and Python types as moteur.run_duckdb.

One local Spark (`local[2]`) is started on first use and kept for the life of the process. The JVM writes
its console and its logs to a file, never to the user's terminal.
"""

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.generators.spark import SparkGenerator

from .catalogue import tables_read
from .moteur import Plan

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SETTINGS = {
    "spark.master": "local[2]",
    "spark.app.name": "pilote-cus indicateurs",
    "spark.driver.memory": "2g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
_LOG4J = """\
status = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
"""


class SparkError(ValueError):
    """Spark is missing, cannot start or failed; the message says so in French.

    A ValueError so that the command line reports it as an error of use, not as an internal error.
    """


class _SparkGenerator(SparkGenerator):
    # sqlglot hoists every WITH to the top of the query, as Hive requires, without renaming: two
    # indicators with a CTE of the same name (`detail`, `annees`) would then clash. Spark ≥ 3 reads
    # a WITH inside a sub-query, so it is left where it is.
    EXPRESSIONS_WITHOUT_NESTED_CTES: ClassVar[set[type[exp.Expr]]] = set()


def to_spark_sql(sql: str) -> str:
    """The Spark SQL of one DuckDB statement."""
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
        return _SparkGenerator(dialect="spark", unsupported_level=ErrorLevel.RAISE).generate(tree)
    except SqlglotError as error:
        raise SparkError(f"Requête non traduisible pour Spark : {error}") from None


def duckdb_tables(plan: Plan) -> list[str]:
    """Tables the plan reads from the DuckDB connection rather than from files (the geography)."""
    defined = set(plan.sources.views) | set(plan.statements)
    read: set[str] = set()
    for sql in (*plan.sources.views.values(), *plan.statements.values(), plan.result):
        read |= tables_read(sql)
    return sorted(read - defined)


@dataclass
class _Local:
    session: "SparkSession"
    folder: Path
    failed: bool = False

    @property
    def log(self) -> Path:
        return self.folder / "spark.log"


_local: _Local | None = None
_starting = threading.Lock()


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def _start() -> _Local:
    if _java() is None:
        raise SparkError(
            "Java est introuvable : le moteur Spark demande Java 17 ou plus récent "
            "(sous Debian : apt-get install default-jre-headless). Sinon, utilisez --moteur duckdb."
        )
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    with warnings.catch_warnings():
        # py4j's numpy converters import this module on first use; it warns about the installed pandas
        warnings.simplefilter("ignore", FutureWarning)
        import pyspark.testing.utils  # noqa: F401

    folder = Path(tempfile.mkdtemp(prefix="pilote-cus-spark-"))
    (folder / "log4j2.properties").write_text(_LOG4J, encoding="utf-8")
    conf = SparkConf(loadDefaults=False).setAll(list(SETTINGS.items()))
    conf.set("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{folder / 'log4j2.properties'}")
    conf.set("spark.local.dir", str(folder / "local"))
    conf.set("spark.sql.warehouse.dir", str(folder / "warehouse"))
    log = folder / "spark.log"
    try:
        with log.open("ab") as sink:  # the JVM keeps its own descriptor
            gateway = launch_gateway(conf, popen_kwargs={"stdout": sink, "stderr": sink})
        context = SparkContext(conf=conf, gateway=gateway)
        session = SparkSession(context)
    except Exception as error:
        raise SparkError(f"Spark n'a pas pu démarrer ({_first_line(error)}). Journal : {log}") from None
    local = _Local(session, folder)
    atexit.register(_stop, local)
    return local


def _stop(local: _Local) -> None:
    with contextlib.suppress(Exception):  # the JVM may be gone already
        local.session.stop()
    if not local.failed:
        shutil.rmtree(local.folder, ignore_errors=True)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300].rstrip(".")


def spark_session() -> "SparkSession":
    """The process's Spark session, started on first use (7 to 10 s)."""
    global _local
    with _starting:
        if _local is None:
            _local = _start()
        return _local.session


def _copy_table(con: duckdb.DuckDBPyConnection, spark: "SparkSession", name: str) -> "DataFrame":
    table = con.sql(f"SELECT * FROM {name}").to_arrow_table()
    return spark.createDataFrame(table)


def run_spark(con: duckdb.DuckDBPyConnection, plan: Plan) -> list[dict[str, Any]]:
    """Run `plan` on Spark; the rows of moteur.run_duckdb, in no particular order."""
    spark = spark_session().newSession()  # temporary views of its own
    names: list[str] = []
    step = "géographie"
    try:
        for step in duckdb_tables(plan):
            _copy_table(con, spark, step).createOrReplaceTempView(step)
            names.append(step)
        for step, sql in (*plan.sources.views.items(), *plan.statements.items()):
            frame = spark.sql(to_spark_sql(sql))
            if step in plan.materialised:
                # Computed once here, as DuckDB's table. Not cache(): a cached plan holding a function
                # Spark deems non-deterministic (any_value, first) is never matched again, and base would
                # be recomputed for every territory level of the result.
                frame = frame.localCheckpoint(eager=True)
            frame.createOrReplaceTempView(step)
            names.append(step)
        step = "résultat"
        rows: list[dict[str, Any]] = spark.sql(to_spark_sql(plan.result)).toArrow().to_pylist()
    except SparkError:
        raise
    except Exception as error:
        raise _failure(step, error) from error
    finally:
        for name in names:
            spark.catalog.dropTempView(name)
    return rows


def _failure(step: str, error: Exception) -> SparkError:
    where = ""
    if _local is not None:
        _local.failed = True  # the log is kept for whoever reads the message
        where = f" Journal : {_local.log}"
    return SparkError(f"Spark a échoué sur « {step} » : {_first_line(error)}.{where}")
