/**
 * The package columns of install/remove/sync plans (spec §4.1): `<name> <pad><version>-<release>`
 * laid out column-major in as many columns as the terminal fits, names bold, versions magenta,
 * releases dim, three spaces between columns.
 */
import { bold, dim, magenta } from "./output.ts";

export interface ColumnItem {
  name: string;
  version: string;
  release: number | string;
}

const GAP = "   ";

export function packageColumns(items: ColumnItem[], width = terminalWidth()): string {
  if (items.length === 0) return "";
  const plainWidth = (item: ColumnItem) => item.name.length + 1 + item.version.length + 1 + String(item.release).length;
  const widest = Math.max(...items.map(plainWidth));
  const columns = Math.max(1, Math.floor((width + GAP.length) / (widest + GAP.length)));
  const rows = Math.ceil(items.length / columns);
  const lines: string[] = [];
  for (let row = 0; row < rows; row++) {
    const cells: string[] = [];
    for (let column = 0; column < columns; column++) {
      const index = column * rows + row;
      const item = items[index];
      if (!item) break;
      const inColumn = items.slice(column * rows, column * rows + rows);
      const columnWidth = Math.max(...inColumn.map(plainWidth));
      const pad = " ".repeat(columnWidth - plainWidth(item) + 1);
      cells.push(`${bold(item.name)}${pad}${magenta(item.version)}-${dim(String(item.release))}`);
    }
    lines.push(cells.join(GAP));
  }
  return lines.join("\n");
}

function terminalWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80;
}
