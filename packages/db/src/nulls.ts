import {
  OperationNodeTransformer,
  RawNode,
  type KyselyPlugin,
  type OperationNode,
  type OrderByItemNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

/**
 * PostgreSQL sorts NULL as larger than any value (last ascending, first descending);
 * SQLite and MySQL sort it as smaller. This plugin adds NULLS FIRST to ascending and
 * NULLS LAST to descending ORDER BY items that do not say, so every query orders the
 * same on all three dialects.
 */
export class NullsLikeOthersPlugin implements KyselyPlugin {
  readonly #transformer = new NullsTransformer();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

class NullsTransformer extends OperationNodeTransformer {
  protected override transformOrderByItem(node: OrderByItemNode): OrderByItemNode {
    const item = super.transformOrderByItem(node);
    if (item.nulls !== undefined || !isPlainDirection(item.direction)) return item;
    return { ...item, nulls: isDescending(item.direction) ? 'last' : 'first' };
  }
}

function directionSql(direction: OperationNode | undefined): string | undefined {
  if (direction === undefined) return '';
  if (!RawNode.is(direction) || direction.parameters.length > 0) return undefined;
  return direction.sqlFragments.join('').trim().toLowerCase();
}

// Leave raw directions alone that already say something else (`desc nulls first`).
function isPlainDirection(direction: OperationNode | undefined): boolean {
  const s = directionSql(direction);
  return s === '' || s === 'asc' || s === 'desc';
}

function isDescending(direction: OperationNode | undefined): boolean {
  return directionSql(direction) === 'desc';
}
