/**
 * `moss repo …` on a root (spec §4.13): the configured repositories, adding, removing, enabling
 * and refreshing them. Every configured repository, enabled or not, has its directory and DB.
 */
import fs from "node:fs";
import path from "node:path";
import { savedConfigPath } from "../config/loader.ts";
import { MetaDb } from "../db/index.ts";
import { forEachLimited } from "../concurrency.ts";
import { MossError } from "../errors.ts";
import { deleteRepositoryFiles, loadRepositories, saveRepository, type Repository } from "./config.ts";
import { repositoryDir } from "./identity.ts";
import { OutdatedRepositoriesError } from "./legacy.ts";
import { DB_FILE, refreshRepository, type RefreshReport } from "./refresh.ts";

/** Refreshes at once at most (spec §8: network concurrency). */
export const REFRESH_CONCURRENCY = 8;

export class RepositoryError extends MossError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "RepositoryError";
  }
}

export interface RepositoryManagerOptions {
  root: string;
  /** `/.moss/repo` of the root. */
  repoDir: string;
  warn: (message: string) => void;
  /** Give every configured repository its directory and DB (not on a read-only root). Default true. */
  create?: boolean;
  /** A system model's repositories replace the configuration files' (spec §6.1). */
  modelRepositories?: readonly Repository[];
}

export class RepositoryManager {
  private constructor(private readonly opts: RepositoryManagerOptions, readonly repositories: Map<string, Repository>) {}

  static async open(opts: RepositoryManagerOptions): Promise<RepositoryManager> {
    const repositories = opts.modelRepositories
      ? new Map(opts.modelRepositories.map((repository) => [repository.id, repository]))
      : await loadRepositories(opts.root, opts.warn);
    const manager = new RepositoryManager(opts, repositories);
    if (opts.create !== false) for (const repository of manager.repositories.values()) manager.ensureDir(repository);
    return manager;
  }

  /** Highest priority first, then by id (Rust lists least preferred first, §9 #25). */
  list(): Repository[] {
    return [...this.repositories.values()].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The enabled repositories, in `list` order: what resolution, refreshes and the cache use. */
  enabled(): Repository[] {
    return this.list().filter((r) => r.active);
  }

  dirOf(repository: Repository): string {
    return repositoryDir(this.opts.repoDir, repository);
  }

  /** The repository's meta DB (same schema as `install`), filled by a refresh. */
  dbFileOf(repository: Repository): string {
    return path.join(this.dirOf(repository), DB_FILE);
  }

  get(id: string): Repository {
    const repository = this.repositories.get(id);
    if (!repository) throw new RepositoryError("UNKNOWN_REPOSITORY", `unknown repo: ${id}`);
    return repository;
  }

  /**
   * Saves `/etc/moss/repo.d/<id>.kdl` (replacing it), then refreshes the repository. A repository
   * that cannot be reached yet stays added, and the error says so.
   */
  async add(repository: Repository): Promise<RefreshReport> {
    this.refuseWithModel("add");
    repository.file = await saveRepository(this.opts.root, repository);
    this.repositories.set(repository.id, repository);
    this.ensureDir(repository);
    try {
      return await refreshRepository(this.opts.repoDir, repository);
    } catch (error) {
      if (error instanceof OutdatedRepositoriesError) throw error;
      throw new RepositoryError(
        "REFRESH_FAILED",
        `${repository.id} was added, but refreshing it failed: ${(error as Error).message} (\`moss repo update ${repository.id}\` tries again)`,
      );
    }
  }

  /**
   * Deletes the repository's directory and its `repo.d/<id>` file. One defined in another file is
   * refused before anything is deleted: removing only its cache would bring it back on the next
   * run (Rust says "removed" and leaves the file, §9 #22).
   */
  remove(id: string): void {
    this.refuseWithModel("remove");
    const repository = this.repositories.get(id);
    if (!repository) throw new RepositoryError("UNKNOWN_REPOSITORY", `${id} not found`);
    const own = savedConfigPath(this.opts.root, "repo", id);
    if (repository.file !== undefined && repository.file !== own && repository.file !== own.replace(/\.kdl$/, ".yaml")) {
      throw new RepositoryError("REPOSITORY_FILE", `${id} is defined in ${repository.file}, which moss does not edit: remove it there`);
    }
    fs.rmSync(this.dirOf(repository), { recursive: true, force: true });
    deleteRepositoryFiles(this.opts.root, id);
    this.repositories.delete(id);
  }

  /** Sets `active`; writes the repository alone to `repo.d/<id>.kdl` when it changes. */
  async setActive(id: string, active: boolean): Promise<boolean> {
    this.refuseWithModel(active ? "enable" : "disable");
    const repository = this.get(id);
    if (repository.active === active) return false;
    repository.active = active;
    repository.file = await saveRepository(this.opts.root, repository);
    return true;
  }

  /**
   * Refreshes one repository (a disabled one: nothing) or every enabled one, `REFRESH_CONCURRENCY`
   * at a time. Every repository is tried; the failures come back with the reports.
   */
  async update(id?: string): Promise<{ reports: RefreshReport[]; failures: { id: string; error: Error }[] }> {
    const targets = id === undefined ? this.enabled() : [this.get(id)].filter((r) => r.active);
    // In the order of `targets`, whichever finishes first.
    const outcomes: ({ report: RefreshReport } | { error: Error })[] = new Array(targets.length);
    await forEachLimited(targets, REFRESH_CONCURRENCY, async (repository, index) => {
      try {
        outcomes[index] = { report: await refreshRepository(this.opts.repoDir, repository) };
      } catch (error) {
        outcomes[index] = { error: error as Error };
      }
    });
    // Every repository on a legacy URL at once, for one rewrite of the configuration.
    const outdated = outcomes.flatMap((o) => ("error" in o && o.error instanceof OutdatedRepositoriesError ? o.error.outdated : []));
    if (outdated.length > 0) throw new OutdatedRepositoriesError(outdated);
    return {
      reports: outcomes.flatMap((o) => ("report" in o ? [o.report] : [])),
      failures: outcomes.flatMap((o, i) => ("error" in o ? [{ id: targets[i]!.id, error: o.error }] : [])),
    };
  }

  private ensureDir(repository: Repository): void {
    const dir = this.dirOf(repository);
    fs.mkdirSync(dir, { recursive: true });
    MetaDb.open(this.dbFileOf(repository)).close();
  }

  private refuseWithModel(command: string): void {
    if (this.opts.modelRepositories !== undefined) {
      throw new RepositoryError(
        "SYSTEM_MODEL_ACTIVE",
        `\`moss repo ${command}\` is not allowed with system-model enabled. Repos must be manually edited from "/etc/moss/system-model.kdl"`,
      );
    }
  }
}
